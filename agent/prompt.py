"""Chat prompts for the agent: a system prompt, k similar in-context examples, and the request.

With grounding (:mod:`agent.context`) the request's turn starts with the
listing of the directory it is about, then ``Request: ...``; without it the
turn is the request alone.  Training renders rows with :func:`user_turn` too,
so the model sees at inference exactly the format it was trained on.
"""

from __future__ import annotations

from agent.fewshot import Example

SYSTEM_PROMPT = (
    "You turn a request into a plan of POSIX shell commands for a Linux machine. "
    "Answer with shell commands only, one per line, each line starting with '$ '. "
    "You may add short comment lines starting with '# '. No prose, no markdown. "
    "Creating files, folders, archives, branches or environments is fine. "
    "Never delete or overwrite what exists: for such requests give a dry-run preview "
    "that only lists what would change."
)


def user_turn(request: str, context: str | None = None) -> str:
    """The user's message: the directory listing (when grounded) and the request."""
    if not context:
        return request
    return f"{context}\n\nRequest: {request}"


def build_messages(request: str, examples: list[Example], context: str | None = None) -> list[dict[str, str]]:
    """System prompt, then each example as a user/assistant turn (most similar last), then the request
    (headed by the directory listing ``context`` when given)."""
    messages = [{"role": "system", "content": SYSTEM_PROMPT}]
    for example in reversed(examples):
        messages.append({"role": "user", "content": example.row.prompt})
        messages.append({"role": "assistant", "content": example.row.completion})
    messages.append({"role": "user", "content": user_turn(request, context)})
    return messages


def render_prompt(tokenizer, messages: list[dict[str, str]]) -> str:
    """The model's own chat template (ChatML for SmolLM2), ending where the assistant speaks."""
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
