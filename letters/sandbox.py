"""The template language admins write emails and letters in: Django's, fenced in.

A separate template engine with a curated set of tags and filters: no {% load %}, {% debug %},
{% url %}, {% csrf_token %} or {% extends %}; {% include %} reaches only the built-in partials
(statement, footer), never a file. Templates see only the plain values of letters.context
(strings, numbers, dates and read-only records), so there is no path to settings, models or
the database. A variable the context lacks is an error with its line, not a silent blank.
Each part renders within a time and size budget (letters.budget).

One tag of our own, {% consequence "name" [required] %}…{% endconsequence %}, marks what a
message threatens or claims (letters.consequences): its text appears only when the check in
the context (`consequences`) allows it, and a required one that is refused stops the
message (ConsequenceRefused)."""

import re
from pathlib import Path

from django import template
from django.template import defaultfilters, defaulttags, loader_tags
from django.template.base import Node, NodeList, Template
from django.template.engine import Engine
from django.template.loader_tags import IncludeNode

from invoices.templatetags.dates import day_filter
from invoices.templatetags.money import money_filter

from .budget import Budget, OverBudget, checked_filter, meter, spending, too_costly
from .consequences import CONSEQUENCES
from .context import Record
from .exceptions import ConsequenceRefused, TemplateProblem

register = template.Library()

_TAGS = {
    defaulttags: (
        "autoescape",
        "comment",
        "cycle",
        "filter",
        "firstof",
        "for",
        "if",
        "ifchanged",
        "now",
        "regroup",
        "resetcycle",
        "spaceless",
        "templatetag",
        "verbatim",
        "widthratio",
        "with",
    ),
    loader_tags: ("include",),
}
_FILTERS = (
    "add",
    "capfirst",
    "center",
    "cut",
    "date",
    "default",
    "default_if_none",
    "dictsort",
    "dictsortreversed",
    "divisibleby",
    "escape",
    "first",
    "floatformat",
    "force_escape",
    "join",
    "last",
    "length",
    "linebreaks",
    "linebreaksbr",
    "ljust",
    "lower",
    "pluralize",
    "rjust",
    "safe",
    "slice",
    "striptags",
    "time",
    "title",
    "truncatechars",
    "truncatewords",
    "upper",
    "urlencode",
    "wordwrap",
    "yesno",
)
for module, names in _TAGS.items():
    for name in names:
        register.tag(name, module.register.tags[name])
for name in _FILTERS:
    register.filter(name, checked_filter(name, defaultfilters.register.filters[name]))
register.filter("money", checked_filter("money", money_filter))
# Dates as every page shows them (invoices.dates), so a letter and the screen agree.
register.filter("day", checked_filter("day", day_filter))


class ConsequenceNode(Node):
    """A passage stating consequences: shown only when the check allows every one named."""

    child_nodelists = ("nodelist",)

    def __init__(self, names: tuple[str, ...], required: bool, nodelist: NodeList):
        self.names = names
        self.required = required
        self.nodelist = nodelist

    def render(self, context):
        refused = _refusal(context.get("consequences"), self.names)
        if not refused:
            return self.nodelist.render(context)
        if self.required:
            raise ConsequenceRefused(self.names, refused)
        return ""


def _refusal(verdict, names: tuple[str, ...]) -> str:
    """Why these consequences may not be stated ("" when they may)."""
    if not isinstance(verdict, Record):
        # A context built without the check allows nothing: silence is the safe default.
        return "no consequence check was made for this message"
    allowed, refused = verdict["allowed"], verdict["refused"]
    reasons = []
    for name in names:
        if name not in allowed:
            try:
                reasons.append(refused[name])
            except KeyError:
                reasons.append(f"{CONSEQUENCES[name]} is not allowed")
    return "; ".join(dict.fromkeys(reasons))


@register.tag("consequence")
def consequence_tag(parser, token):
    args = token.split_contents()[1:]
    required = bool(args) and args[-1] == "required"
    if required:
        args = args[:-1]
    if not args:
        raise template.TemplateSyntaxError(
            'consequence needs what it states, e.g. {% consequence "interest" %}'
        )
    names = []
    for arg in args:
        name = arg[1:-1] if len(arg) > 1 and arg[0] == arg[-1] and arg[0] in "\"'" else ""
        if name not in CONSEQUENCES:
            raise template.TemplateSyntaxError(
                f"unknown consequence {arg}: use one of "
                + ", ".join(f'"{known}"' for known in CONSEQUENCES)
                + ', then "required" if the message makes no sense without it'
            )
        names.append(name)
    nodelist = parser.parse(("endconsequence",))
    parser.delete_first_token()
    return ConsequenceNode(tuple(names), required, nodelist)


PARTIALS_DIR = Path(__file__).parent / "partials"
# Marks a variable the context does not have; found in the output and reported.
_MISSING = "\x00missing:%s\x00"


class _Engine(Engine):
    default_builtins = ["letters.sandbox"]

    def find_template(self, name, dirs=None, skip=None):
        # The partials a template includes render within its budget too.
        found, origin = super().find_template(name, dirs, skip)
        meter(found.nodelist)
        return found, origin


def _partials() -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(PARTIALS_DIR.iterdir())}


def _engine(*, autoescape: bool) -> Engine:
    return _Engine(
        debug=True,  # syntax errors then carry their line
        autoescape=autoescape,
        loaders=[("django.template.loaders.locmem.Loader", _partials())],
        libraries={},
        string_if_invalid=_MISSING,
    )


HTML = _engine(autoescape=True)
TEXT = _engine(autoescape=False)


def compile_template(source: str, *, engine: Engine, field: str) -> Template:
    """Parse a template; a syntax error becomes a TemplateProblem naming field and line."""
    try:
        return Template(source, engine=engine)
    except template.TemplateSyntaxError as error:
        raise TemplateProblem(field, _line(error, source), _plain(error)) from None
    except Exception as error:  # e.g. a malformed relative {% include %}
        raise TemplateProblem(field, None, f"cannot be read: {error}") from None


def render(source: str, context: dict, *, engine: Engine, field: str, name: str = "") -> str:
    """Render one part of a template (field) within the budget; raises TemplateProblem, or
    TemplateTooCostly naming the template (name) when the budget runs out."""
    budget = Budget.from_settings()
    compiled = compile_template(source, engine=engine, field=field)
    meter(compiled.nodelist)
    try:
        with spending(budget):
            output = compiled.render(template.Context(context, autoescape=engine.autoescape))
        budget.finish(output)
    except OverBudget as error:
        raise too_costly(error.kind, name=name, field=field, line=_line(error, source)) from None
    except template.TemplateSyntaxError as error:  # e.g. in an included partial
        raise TemplateProblem(field, _line(error, source), _plain(error)) from None
    except ConsequenceRefused as error:
        raise error.named(name) from None
    except Exception as error:  # a filter given the wrong kind of value, and the like
        raise TemplateProblem(field, _line(error, source), f"cannot be rendered: {error}") from None
    if "\x00missing:" in output:
        names = sorted({part.split("\x00", 1)[0] for part in output.split("\x00missing:")[1:]})
        raise TemplateProblem(
            field,
            _first_line(source, names[0]),
            f"uses {', '.join(names)}, which templates do not have "
            "(see the list of fields beside the editor)",
        )
    return output


def consequences_in(source: str, *, engine: Engine, field: str) -> list[tuple[str, bool]]:
    """(name, required) for each consequence a part states, its partials included, in the
    order they appear. Raises TemplateProblem when the part does not parse."""
    compiled = compile_template(source, engine=engine, field=field)
    return _declared(compiled.nodelist, engine, seen=set())


def _declared(nodelist: NodeList, engine: Engine, *, seen: set[str]) -> list[tuple[str, bool]]:
    found = []
    for node in nodelist.get_nodes_by_type(Node):
        if isinstance(node, ConsequenceNode):
            found.extend((name, node.required) for name in node.names)
        elif isinstance(node, IncludeNode):
            name = node.template.var
            if isinstance(name, str) and name not in seen:  # a partial named in quotes
                seen.add(name)
                try:
                    partial = engine.get_template(name)
                except template.TemplateDoesNotExist:
                    continue
                found.extend(_declared(partial.nodelist, engine, seen=seen))
    return found


def _line(error: Exception, source: str) -> int | None:
    debug = getattr(error, "template_debug", None)
    if debug and debug.get("name") in (None, "<unknown source>"):
        return debug.get("line")
    return None


def _first_line(source: str, name: str) -> int | None:
    """The first line using the variable (by its whole name, else its first part)."""
    lines = source.splitlines()
    for wanted in (name, name.split(".")[0]):
        for number, line in enumerate(lines, 1):
            if re.search(r"(\{\{|\{%)[^}]*\b" + re.escape(wanted), line):
                return number
    return None


def _plain(error: Exception) -> str:
    text = str(error)
    unknown = re.match(r"Invalid block tag on line \d+: '([^']+)'", text)
    if unknown:
        return f"unknown tag '{unknown[1]}': templates cannot use it"
    return text.rstrip(".")
