"""The lesson page's address: the student's walk beside the experiment, one query, no clashes.

The lesson page keeps two states in its URL so that a reload returns to the same place: the walk
(:class:`~courseware.lessons.walk.WalkState`: step, answers, hints, ...) and the experiment, in the
Playground's own vocabulary (``activation=relu&networkShape=4&seed=...``). Both name a ``seed``: the
walk's seed (the data and starting weights every step of the lesson is built from) and the seed of
the experiment on the screen (which Regenerate changes). So the walk's seed is written
``lessonSeed``; every other walk parameter keeps its :class:`WalkState` name, none of which is a
Playground setting::

    /lesson?lesson=learning-rate&step=4&lessonSeed=0.52213&answers=2:2&activation=tanh&...&seed=0.52213
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from courseware.lessons.lesson import Lesson
from courseware.lessons.walk import WALK_KEYS, WalkState, first_unfinished

LESSON_SEED = "lessonSeed"
# The page's own parameters; everything else in the query is the experiment's.
PAGE_KEYS = tuple(LESSON_SEED if key == "seed" else key for key in WALK_KEYS)


def walk_query(state: WalkState) -> str:
    """The walk's part of the page's query (``lesson=...&step=...&lessonSeed=...&...``)."""
    params = state.to_params()
    return "&".join(
        f"{LESSON_SEED if key == 'seed' else key}={quote(value, safe=',.:-_~')}" for key, value in params.items()
    )


def walk_from_query(query: Mapping[str, str], lesson: Lesson) -> tuple[WalkState, list[str]]:
    """The walk a page query describes, and a notice for each parameter that could not be used.

    Without ``lessonSeed``, an experiment ``seed`` in the query seeds the walk (a hand-made link such
    as ``/lesson?lesson=tour&seed=0.12345`` gives everyone the same data), unless the lesson fixes
    its own seed.

    Steps open in order: a ``step`` past a question not yet answered or a goal not yet reached (as
    far as the address records them) opens that step instead, with a notice
    (:func:`~courseware.lessons.walk.first_unfinished`).
    """
    params = {key: query[key] for key in WALK_KEYS if key != "seed" and key in query}
    if LESSON_SEED in query:
        params["seed"] = query[LESSON_SEED]
    elif "seed" in query and lesson.fixed_seed is None:
        params["seed"] = query["seed"]
    params["lesson"] = lesson.id  # the page was opened for this lesson: no notice about it
    state, notices = WalkState.from_query(params, lesson)
    blocking = first_unfinished(lesson, state, state.step)
    if blocking is not None:
        what = "question" if lesson.step(blocking).task == "answer" else "goal"
        notices.append(f"step {state.step} comes after the {what} of step {blocking}, which is not done yet, "
                       f"so the lesson opens at step {blocking}")
        state.step = blocking
    return state, notices


def experiment_query(query: Mapping[str, str]) -> dict[str, str]:
    """The experiment's part of a page query (the Playground's settings)."""
    return {key: value for key, value in query.items() if key not in PAGE_KEYS}
