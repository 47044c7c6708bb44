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
