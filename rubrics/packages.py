"""Which Debian packages provide the programs a suite's commands call that the sandbox image lacks.

The InterCode importer proposes them (``image: {packages: [...]}`` on the
fixture): :func:`missing_programs` finds what the golds call that the image
does not have, :func:`propose` maps those programs to packages.  The table is
Debian bookworm's, read from the packages themselves: each one was installed
in a container of the sandbox image, and every command it added (``compgen
-c`` before and after) was traced to its owner with ``dpkg -S``.  Programs no
package here provides are reported as such, to be added by hand
(``--package``).  Pure: no Docker here.
"""

from __future__ import annotations


from agent.safety import Unparseable
from rubrics.score import unknown_programs

# package: the commands it provides (bookworm, amd64)
_TABLE = """
acl: chacl getfacl setfacl
at: at atd atq atrm batch
attr: attr getfattr setfattr
bc: bc
bind9-dnsutils: delv dig dnstap-read mdig nslookup nsupdate
bind9-host: host
bsdextrautils: col colcrt colrm column hd hexdump look ul write
cpio: cpio mt mt-gnu
cron: cron crontab
curl: curl
dc: dc
dmidecode: biosdecode dmidecode ownership vpddecode
dos2unix: dos2unix mac2unix unix2dos unix2mac
ethtool: ethtool
expect: autoexpect expect unbuffer
finger: finger
groff-base: eqn groff grog nroff pic tbl troff
hashdeep: hashdeep md5deep sha1deep sha256deep tigerdeep whirlpooldeep
htop: htop
imagemagick: animate compare composite conjure convert display identify import mogrify montage stream
inetutils-telnet: telnet
inotify-tools: fsnotifywait fsnotifywatch inotifywait inotifywatch
iproute2: arpd bridge ctstat dcb devlink genl ip lnstat nstat rdma routel rtacct rtmon rtstat ss tc tipc vdpa
iputils-ping: ping ping4 ping6
libcap2-bin: capsh getcap getpcaps setcap
lsb-release: lsb_release
lshw: lshw
lsof: lsof
lz4: lz4 lz4c lz4cat unlz4
make: gmake make
man-db: apropos catman man mandb manpath whatis
moreutils: chronic combine errno ifdata ifne isutf8 lckdo mispipe pee sponge ts vidir vipe zrun
mtr-tiny: mtr mtr-packet
nano: nano pico rnano
ncal: cal ncal
ncdu: ncdu
net-tools: arp ifconfig ipmaddr iptunnel mii-tool nameif netstat plipconfig rarp route slattach
netcat-openbsd: nc nc.openbsd netcat
nmap: nmap nping
openssh-client: scp sftp slogin ssh ssh-add ssh-agent ssh-copy-id ssh-keygen ssh-keyscan
p7zip-full: 7z 7za 7zr p7zip
parallel: env_parallel niceload parallel parcat parset parsort sql
pciutils: lspci setpci update-pciids
pigz: pigz unpigz
plocate: locate plocate updatedb
psmisc: fuser killall peekfd prtstat pslog pstree
pv: pv
rename: file-rename prename rename
rsync: rsync
screen: screen
sharutils: shar unshar uudecode uuencode
socat: filan procan socat
sqlite3: sqlite3
strace: strace
sysstat: cifsiostat iostat mpstat pidstat sadf sar tapestat
tcpdump: tcpdump
tmux: tmux
traceroute: lft tcptraceroute traceproto traceroute traceroute6
tree: tree
usbutils: lsusb usb-devices usbhid-dump usbreset
uuid-runtime: uuidd uuidgen uuidparse
vim-tiny: ex rview vi view vim.tiny
wget: wget
whois: mkpasswd whois
xxd: xxd
zstd: pzstd unzstd zstd zstdcat zstdgrep zstdless zstdmt
"""

PACKAGE_OF: dict[str, str] = {program: package for line in _TABLE.strip().splitlines()
                              for package, _, programs in [line.partition(": ")] for program in programs.split()}
"""Command name -> the Debian package that provides it."""


def missing_programs(commands: list[str], programs: frozenset[str]) -> dict[str, list[str]]:
    """Program -> the commands that call it, for every program they call that ``programs`` lacks.

    A command the shell parser cannot read is skipped (its programs stay unknown).
    """
    found: dict[str, list[str]] = {}
    for command in commands:
        try:
            names = unknown_programs(command, programs)
        except Unparseable:
            continue  # the parser cannot read it (as in rubrics.score.score_plan): nothing to learn here
        for name in names:
            found.setdefault(name, []).append(command)
    return found


def propose(missing: dict[str, list[str]]) -> tuple[dict[str, list[str]], list[str]]:
    """(package -> the missing programs it provides, programs no package in the table provides)."""
    packages: dict[str, list[str]] = {}
    unknown = []
    for program in sorted(missing):
        package = PACKAGE_OF.get(program)
        if package is None:
            unknown.append(program)
        else:
            packages.setdefault(package, []).append(program)
    return dict(sorted(packages.items())), unknown
