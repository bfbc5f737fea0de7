"""Chat prompts for the agent: a system prompt plus k similar in-context examples."""

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


def build_messages(request: str, examples: list[Example]) -> list[dict[str, str]]:
    """System prompt, then each example as a user/assistant turn (most similar last), then the request."""
    messages = [{"role": "system", "content": SYSTEM_PROMPT}]
    for example in reversed(examples):
        messages.append({"role": "user", "content": example.row.prompt})
        messages.append({"role": "assistant", "content": example.row.completion})
    messages.append({"role": "user", "content": request})
    return messages


def render_prompt(tokenizer, messages: list[dict[str, str]]) -> str:
    """The model's own chat template (ChatML for SmolLM2), ending where the assistant speaks."""
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
