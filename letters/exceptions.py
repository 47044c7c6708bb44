class LetterError(Exception):
    """A letter or email cannot be produced; the message says why, for the user."""


class TemplateProblem(LetterError):
    """A template that does not parse or render, with where (field and line)."""

    def __init__(self, field: str, line: int | None, problem: str):
        self.field = field
        self.line = line
        self.problem = problem
        where = f"{field}, line {line}" if line else field
        super().__init__(f"{where}: {problem}")


class TemplateTooCostly(TemplateProblem):
    """A template stopped part-way: a part took longer, or wrote more, than a render may
    (settings.TEMPLATE_RENDER_SECONDS, TEMPLATE_RENDER_MAX_BYTES)."""

    def __init__(self, field: str, line: int | None, problem: str):
        super().__init__(field, line, problem)
        # The problem names the template and the part itself: shown as it is.
        self.args = (problem,)


class ConsequenceRefused(LetterError):
    """A message that states a consequence it must (marked required) which the check
    refuses for this customer (letters.consequences): it is not sent, and says why."""

    def __init__(self, consequences: tuple[str, ...], reason: str, template_name: str = ""):
        self.consequences = consequences
        self.reason = reason
        self.template_name = template_name
        super().__init__(f"{template_name or 'The message'} not sent: {reason}")

    def named(self, template_name: str) -> "ConsequenceRefused":
        """The same refusal, naming the template it came from."""
        if not template_name or self.template_name:
            return self
        return ConsequenceRefused(self.consequences, self.reason, template_name)
