"""Accessibility checks for the browser tests: axe-core, pinned in tests/axe/package-lock.json
and installed by `make test-deps` (scripts/system-deps.sh axe), run inside a Playwright page."""

from dataclasses import dataclass
from pathlib import Path

AXE_JS = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"

# axe ranks each violation minor, moderate, serious or critical; the last two block a user.
BLOCKING = ("serious", "critical")


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    help: str
    help_url: str
    targets: tuple[str, ...]

    def describe(self) -> str:
        where = "\n".join(f"      {target}" for target in self.targets)
        return f"  {self.rule} ({self.impact}): {self.help}\n    {self.help_url}\n{where}"


def axe_violations(page, *, impacts=BLOCKING) -> list[Violation]:
    """Run axe on the page as it is now and return the violations of the given impacts."""
    if not AXE_JS.exists():
        raise RuntimeError(
            "tests/axe/node_modules/axe-core/axe.min.js is missing: run `make test-deps` "
            "(or scripts/system-deps.sh axe) to install axe-core"
        )
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=AXE_JS)
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        Violation(
            rule=found["id"],
            impact=found["impact"],
            help=found["help"],
            help_url=found["helpUrl"].split("?")[0],
            targets=tuple(_selector(node["target"]) for node in found["nodes"]),
        )
        for found in results["violations"]
        if found["impact"] in impacts
    ]


def _selector(target) -> str:
    # A target inside a frame or a shadow root is a list of selectors, outermost first.
    if isinstance(target, str):
        return target
    return " >>> ".join(_selector(part) for part in target)


def violations_report(where: str, violations: list[Violation]) -> str:
    """What a failing test prints: every rule broken, how badly, where and how to fix it."""
    return f"{len(violations)} accessibility violation(s) on {where}:\n" + "\n".join(
        violation.describe() for violation in violations
    )
