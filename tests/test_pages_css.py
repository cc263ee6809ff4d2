"""The pages' stylesheets work in the older browsers of kiosks and TVs (no browser needed).

Flex `gap` arrived in Chrome 84 (Android TVs and kiosk tablets often run older WebViews), grid
`gap` in Chrome 66, and grid itself, with `grid-gap`, in Chrome 57. So a flex container is spaced
with margins on its items, never `gap`; a grid that uses `gap` also says `grid-gap`.
"""

import re

from tests.server import ROOT

CSS_DIR = ROOT / "app" / "web" / "static" / "css"
GAPS = {"gap": "grid-gap", "row-gap": "grid-row-gap", "column-gap": "grid-column-gap"}


def rule_blocks(css: str) -> list[tuple[str, dict[str, str]]]:
    """Each innermost `selector { declarations }` block (inside @media too), as the selector
    and its declarations (property -> value, lower case)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    blocks = []
    for match in re.finditer(r"([^{}]*)\{([^{}]*)\}", css):
        declarations: dict[str, str] = {}
        for part in match.group(2).split(";"):
            name, colon, value = part.partition(":")
            if colon:
                declarations[name.strip().lower()] = " ".join(value.lower().split())
        blocks.append((" ".join(match.group(1).split()), declarations))
    return blocks


def gap_problems(css: str) -> list[str]:
    problems = []
    for selector, declarations in rule_blocks(css):
        display = declarations.get("display", "")
        for gap, grid_gap in GAPS.items():
            if gap not in declarations:
                continue
            if display in ("flex", "inline-flex"):
                problems.append(f"{selector}: flex container with {gap} (use margins)")
            elif display not in ("grid", "inline-grid"):
                problems.append(f"{selector}: {gap} without display: grid in the same block")
            elif declarations.get(grid_gap) != declarations[gap]:
                problems.append(f"{selector}: {gap} without the same {grid_gap}")
    return problems


def test_the_check_finds_flex_gap_and_a_grid_gap_without_grid_gap() -> None:
    css = """
    .a { display: flex; align-items: center; gap: 12px; }
    /* .commented { display: flex; gap: 1px } */
    @media (max-width: 800px) { .b { display: inline-flex; row-gap: 4px } }
    .c { display: grid; gap: 18px; }
    .d { gap: 3px; }
    .e { display: grid; grid-gap: 4px 18px; gap: 4px 18px; }
    .f { display: flex; }
    .f > * + * { margin-left: 12px; }
    """
    assert gap_problems(css) == [
        ".a: flex container with gap (use margins)",
        ".b: flex container with row-gap (use margins)",
        ".c: gap without the same grid-gap",
        ".d: gap without display: grid in the same block",
    ]


def test_no_stylesheet_relies_on_flex_gap() -> None:
    sheets = sorted(CSS_DIR.glob("*.css"))
    assert len(sheets) >= 5
    problems = []
    grids_with_gap = 0
    for sheet in sheets:
        css = sheet.read_text(encoding="utf-8")
        problems += [f"{sheet.name}: {problem}" for problem in gap_problems(css)]
        grids_with_gap += sum(1 for _, d in rule_blocks(css) if "grid-gap" in d)
    assert problems == []
    assert grids_with_gap >= 3  # the check did read the grids (kiosk tiles, admin forms, staff)


def test_sheets_are_read_whole() -> None:
    # Every brace closes: a block the parser would skip cannot hide a gap.
    for sheet in CSS_DIR.glob("*.css"):
        css = re.sub(r"/\*.*?\*/", "", sheet.read_text(encoding="utf-8"), flags=re.S)
        assert css.count("{") == css.count("}"), sheet.name
