"""The one record type every reader produces and every embedder consumes."""

from dataclasses import dataclass, field

TEXT_TARGETS = ("prompt", "response", "conversation")


@dataclass(frozen=True)
class Conversation:
    """One (prompt, response) exchange of a fine-tuning data set.

    Parameters
    ----------
    prompt : str
        The last user turn.
    response : str, default=""
        The assistant turn answering ``prompt``; empty for prompt-only rows
        (harmful behaviour lists such as AdvBench have no answers).
    system : str or None, default=None
        System prompt, when the source has one.
    history : tuple of dict, default=()
        Earlier ``{"role", "content"}`` turns of a multi-turn chat.
    source : str, default=""
        Where the row comes from (a file name or reference-set component).
    meta : dict, default={}
        The original input record and anything else a reader keeps; writers
        use ``meta["record"]`` to write every input field back unchanged.

    Examples
    --------
    >>> from sotlearn.datasets import Conversation
    >>> c = Conversation("What is 2 + 2?", "4", system="Be brief.")
    >>> [m["role"] for m in c.messages]
    ['system', 'user', 'assistant']
    >>> c.text("conversation")
    'What is 2 + 2?\\n4'
    """

    prompt: str
    response: str = ""
    system: str | None = None
    history: tuple = ()
    source: str = ""
    meta: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def messages(self):
        """The exchange as chat messages: system, history, user, then assistant if any."""
        messages = []
        if self.system:
            messages.append({"role": "system", "content": self.system})
        messages.extend(dict(m) for m in self.history)
        messages.append({"role": "user", "content": self.prompt})
        if self.response:
            messages.append({"role": "assistant", "content": self.response})
        return messages

    def text(self, target):
        """Plain text of one part of the exchange.

        Parameters
        ----------
        target : {"prompt", "response", "conversation"}
            ``"conversation"`` joins the prompt and the response with a newline
            (the system prompt and earlier turns are left out: they are
            usually shared boilerplate that would dominate a sentence
            embedding).

        Returns
        -------
        str
            The selected text.
        """
        if target == "prompt":
            return self.prompt
        if target == "response":
            return self.response
        if target == "conversation":
            return "\n".join(part for part in (self.prompt, self.response) if part)
        raise ValueError(f"target must be one of {TEXT_TARGETS}, got {target!r}.")
