"""Per-student variants: each student an assignment of their own.

nbgrader releases one notebook for the whole class (no per-student
randomization: nbgrader issue #1153). With variants on for an assignment,
each student works on parameters of their own (a sample window, a budget, a
risk-share limit), derived by :mod:`factordata.variants` from the class seed
and the student id, so a classmate's numbers are wrong for everybody else.

The instructor turns them on in ``nbgrader_config.py``::

    c.Autograder.variants = ["alpha-beta", "hedging", "risk-budgets", "variance-shares"]
    c.Autograder.variant_seed = "factor-models-2026-spring"   # any text; keep it for the term

How each part gets the parameters:

* **The student's notebook.** Its parameters cell reads
  ``STUDENT_ID = ""`` and ``P = factordata.assignment_parameters(
  "<assignment>", STUDENT_ID)``. ``autograder release`` (:func:`add_seed`)
  writes the class seed into that call in the released notebook. The seed
  has to travel in the notebook: the grading box sees nothing of the course
  but the notebook and ``factordata``, students may work on any machine, and
  nbgrader hands out ``release/`` as it is. The cell is a plain (unlocked,
  ungraded) cell, so nbgrader neither restores it from the source nor checks
  its checksum, and the same cell works without variants: no seed, defaults.
  The seed is not a secret: knowing it tells a student a classmate's
  parameters, which the classmate could tell them too, and the grader never
  takes the parameters, the seed or the id from the notebook.
* **``autograder grade``.** The id is the submission's folder
  (``submitted/<id>/``), the seed is the configuration's
  (:func:`judge_variants`); a notebook whose ``P`` is not that student's
  (another id typed in, a classmate's notebook, edited values) fails every
  item that depends on it, with a message that says so.
* **``autograder check``** (self-check, offline, on the learner's machine):
  there is no other identity than the id typed in, nor another seed than the
  notebook's, so it grades on those; without a seed, on the defaults.

Off by default: the course's own ``nbgrader_config.py`` sets nothing, every
student gets the defaults, which are the numbers the assignments' text uses.
"""

from __future__ import annotations

import ast
import json
import re

from factordata.variants import DEFAULTS

from .course import UserError

#: Assignments whose checks grade on per-student parameters.
VARIED = tuple(DEFAULTS)
#: The function the notebooks' parameters cell calls.
CALL = "assignment_parameters"


def settings(config) -> tuple[frozenset, str | None]:
    """(assignments with variants, class seed) from a course's configuration.

    Raises
    ------
    UserError
        An assignment without parameters, or variants without a seed.
    """
    ag = (config or {}).get("Autograder", {}) if config is not None else {}
    names = ag.get("variants", None) or ()
    seed = ag.get("variant_seed", None)
    if isinstance(names, str):
        names = [names]
    names = frozenset(str(n) for n in names)
    unknown = sorted(names - set(VARIED))
    if unknown:
        raise UserError(f"c.Autograder.variants: {', '.join(unknown)} has no per-student parameters; "
                        f"choose among {', '.join(VARIED)}")
    if names and not (isinstance(seed, str) and seed.strip()):
        raise UserError("c.Autograder.variants is set but c.Autograder.variant_seed is not: "
                        "set it to any text (the class seed) and keep it for the term")
    return names, (seed.strip() if names else None)


def seed_for(config, name: str) -> str | None:
    """The class seed when ``name`` has variants on, else None."""
    names, seed = settings(config)
    return seed if name in names else None


def notebook_seed(nb) -> str | None:
    """The class seed written into a notebook's parameters cell, if any.

    Read with ``ast`` (nothing of the notebook runs): the ``class_seed``
    keyword of the first ``assignment_parameters(...)`` call.
    """
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code" or CALL not in cell.get("source", ""):
            continue
        try:
            tree = ast.parse(cell["source"])
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == CALL:
                for kw in node.keywords:
                    if kw.arg == "class_seed" and isinstance(kw.value, ast.Constant) \
                            and isinstance(kw.value.value, str):
                        return kw.value.value
    return None


def judge_variants(seed: str | None, student: str | None, nb) -> dict:
    """Whose parameters the judge grades on (``JUDGE_CONTEXT["variants"]``).

    Parameters
    ----------
    seed : str or None
        The configured class seed of this assignment (``grade``).
    student : str or None
        The submission's student id; None for ``autograder check``, which
        then takes the seed from the notebook and the id from its ``P``.
    nb : NotebookNode
        The submission.
    """
    if student is None:
        return {"seed": notebook_seed(nb), "student": None}
    return {"seed": seed, "student": student}


def add_seed(path, name: str, seed: str) -> bool:
    """Write the class seed into a released notebook's parameters call.

    Returns True when the call was found (and now carries the seed).
    """
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    pattern = re.compile(rf'({CALL}\(\s*"{re.escape(name)}"\s*,\s*STUDENT_ID)\s*\)')
    found = False
    for cell in nb.cells:
        if cell.cell_type == "code" and pattern.search(cell.source):
            cell.source = pattern.sub(lambda m: f"{m.group(1)}, class_seed={json.dumps(seed)})", cell.source)
            found = True
    if found:
        nbformat.write(nb, str(path))
    return found
