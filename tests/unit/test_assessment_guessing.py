"""A learner who answers Module 7's final assessment at random almost never passes it.

Simulated in Python from the course model, with the runtime's rules (builder/runtime/course-ui.js):
each attempt draws `draw` of the graded questions, each question earns its points when right
(all or nothing, or in part with `scoring: partial`), the score is the share of the drawn points,
rounded to hundredths, and passes at the reporting pass mark. The guesser picks uniformly: one
option, true or false, a non-empty set of options, a target per prompt, an order of the steps.
"""

from __future__ import annotations

import random
from typing import Any

from builder.model import (
    Matching,
    MultipleResponse,
    Question,
    Quiz,
    Sequencing,
    SingleChoice,
    TrueFalse,
)
from builder.pipeline import load_course
from tests.conftest import REPO

ATTEMPTS = 1000


def guess(q: Question, rng: random.Random) -> Any:
    if isinstance(q, SingleChoice):
        return rng.choice(q.options).id
    if isinstance(q, TrueFalse):
        return rng.random() < 0.5
    if isinstance(q, MultipleResponse):
        while True:
            chosen = {o.id for o in q.options if rng.random() < 0.5}
            if chosen:
                return chosen
    if isinstance(q, Matching):
        return {p.id: rng.choice(q.options).id for p in q.prompts}
    if isinstance(q, Sequencing):
        order = [s.id for s in q.steps]
        rng.shuffle(order)
        return order
    return ""  # fill-in: a guess never matches


def credit(q: Question, r: Any, scoring: str) -> float:
    """The share of a question's points a response earns (course-ui.js, `credit`)."""
    if isinstance(q, SingleChoice):
        return float(r == next(o.id for o in q.options if o.correct))
    if isinstance(q, TrueFalse):
        return float(r == q.answer)
    if isinstance(q, MultipleResponse):
        right = {o.id for o in q.options if o.correct}
        if r == right or scoring != "partial":
            return float(r == right)
        wrong = len(q.options) - len(right)
        share = sum(1 / len(right) if o in right else -1 / wrong for o in r)
        return min(1.0, max(0.0, share))
    if isinstance(q, Matching):
        hits = sum(r.get(p.id) == p.answer for p in q.prompts) / len(q.prompts)
        return hits if scoring == "partial" else float(hits == 1)
    if isinstance(q, Sequencing):
        key = [s.id for s in q.steps]
        hits = sum(a == b for a, b in zip(r, key, strict=True)) / len(key)
        return hits if scoring == "partial" else float(hits == 1)
    return 0.0


def attempt(quiz: Quiz, pass_mark: int, rng: random.Random) -> bool:
    graded = [q for q in quiz.questions if q.points > 0]
    drawn = rng.sample(graded, quiz.draw) if quiz.draw else graded
    earned = sum(q.points * credit(q, guess(q, rng), quiz.scoring) for q in drawn)
    percent = round(100 * earned / sum(q.points for q in drawn), 2)
    return percent >= pass_mark


def guess_pass_rate(seed: int) -> float:
    course = load_course(REPO / "course")[0]
    unit = course.assessment
    assert unit is not None and unit.quiz is not None
    rng = random.Random(seed)
    passes = sum(attempt(unit.quiz, course.reporting.pass_mark, rng) for _ in range(ATTEMPTS))
    return passes / ATTEMPTS


def test_random_answers_pass_the_final_assessment_in_fewer_than_5_percent_of_attempts():
    assert guess_pass_rate(seed=7) < 0.05


def test_the_simulation_can_tell_an_easy_quiz_from_a_hard_one():
    """The same guesser passes a quiz of true/false questions with a 50 % mark most of the time."""
    quiz = Quiz.model_validate(
        {
            "id": "easy",
            "title": "Easy",
            "questions": [
                {"id": f"q{n}", "type": "true-false", "prompt": "?", "answer": n % 2 == 0}
                for n in range(4)
            ],
        }
    )
    rng = random.Random(1)
    rate = sum(attempt(quiz, 50, rng) for _ in range(ATTEMPTS)) / ATTEMPTS
    assert 0.6 < rate < 0.75  # 11 of the 16 answer patterns score 50 % or more
