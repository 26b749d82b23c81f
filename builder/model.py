"""The course as validated data: Pydantic v2 models, frozen, with unknown keys refused."""

# No `from __future__ import annotations` here: Pydantic would have to evaluate every field's
# annotation from a string, a third of the time these classes take to build at start-up.

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

#: An author-written identifier: lower-kebab-case, starting with a letter, so that it can become
#: an XML ID, a SCORM 1.2 interaction id and a file name unchanged.
Id = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$", max_length=64),
]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Percent = Annotated[int, Field(ge=0, le=100)]

UnitKind = Literal["presentation", "activity", "handout", "assessment"]
#: How a course is packaged: one SCO for the whole course, or one SCO per unit.
Mode = Literal["single", "multi"]
#: The SCORM version a package is built for.
Target = Literal["scorm12", "scorm2004"]
ReportStatus = Literal["completed/incomplete", "passed/incomplete", "passed/failed"]
#: How a multiple-response or matching question counts: only when fully right, or in part
#: (each right option or pair earns its share; each wrong option takes one back), as Moodle does.
Scoring = Literal["all-or-nothing", "partial"]
#: When a submitted quiz shows its right answers and the author's feedback: at once, or only
#: once the quiz is passed or its last attempt used (before that, the score alone).
FeedbackPolicy = Literal["immediate", "after-pass-or-last-attempt"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- questions


class Feedback(Strict):
    correct: Text | None = None
    incorrect: Text | None = None


class Option(Strict):
    id: Id
    text: Text
    correct: bool = False
    feedback: Text | None = None


class QuestionBase(Strict):
    id: Id
    prompt: Text
    points: Annotated[int, Field(ge=0, le=100)] = 1
    feedback: Feedback = Feedback()

    @property
    def graded(self) -> bool:
        return True


class SingleChoice(QuestionBase):
    type: Literal["single-choice"]
    options: Annotated[tuple[Option, ...], Field(min_length=2)]


class MultipleResponse(QuestionBase):
    type: Literal["multiple-response"]
    options: Annotated[tuple[Option, ...], Field(min_length=2)]


class TrueFalse(QuestionBase):
    type: Literal["true-false"]
    answer: bool


class MatchTarget(Strict):
    id: Id
    text: Text


class MatchPrompt(Strict):
    id: Id
    text: Text
    answer: Id
    feedback: Text | None = None


class Matching(QuestionBase):
    type: Literal["matching"]
    prompts: Annotated[tuple[MatchPrompt, ...], Field(min_length=1)]
    options: Annotated[tuple[MatchTarget, ...], Field(min_length=2)]


class FillIn(QuestionBase):
    type: Literal["fill-in"]
    answers: Annotated[tuple[Text, ...], Field(min_length=1)]
    case_sensitive: bool = False


class Step(Strict):
    """A step of a sequencing question, or a point of a likert scale."""

    id: Id
    text: Text


class Sequencing(QuestionBase):
    """Steps to put in order; `steps` lists them in the right order, learners see them shuffled."""

    type: Literal["sequencing"]
    steps: Annotated[tuple[Step, ...], Field(min_length=2, max_length=20)]


class Likert(QuestionBase):
    """A self-assessment on a scale: recorded as a likert interaction, never graded."""

    type: Literal["likert"]
    points: Literal[0] = 0
    scale: Annotated[tuple[Step, ...], Field(min_length=2, max_length=11)]

    @property
    def graded(self) -> bool:
        return False


class Reflection(QuestionBase):
    """Free text kept in the learner's saved state, never graded."""

    type: Literal["reflection"]
    points: Literal[0] = 0
    max_length: Annotated[int, Field(ge=1, le=4000)] = 1000
    example: Text | None = None

    @property
    def graded(self) -> bool:
        return False


Question = Annotated[
    SingleChoice
    | MultipleResponse
    | TrueFalse
    | Matching
    | FillIn
    | Sequencing
    | Likert
    | Reflection,
    Field(discriminator="type"),
]
#: The `type` of each kind of question, as authors write it.
QUESTION_TYPES = frozenset(
    get_args(kind.model_fields["type"].annotation)[0] for kind in get_args(get_args(Question)[0])
)


class Quiz(Strict):
    id: Id
    title: Title
    intro: Text | None = None
    pass_mark: Percent | None = None
    attempts: Annotated[int, Field(ge=0, le=99)] = 0
    scoring: Scoring = "all-or-nothing"
    draw: Annotated[int, Field(ge=1, le=99)] | None = None
    """Questions drawn at random from `questions` for each attempt (None: all of them)."""
    shuffle: bool = False
    """Options (single-choice, multiple-response) in a new random order for each attempt."""
    feedback: FeedbackPolicy = "immediate"
    questions: Annotated[tuple[Question, ...], Field(min_length=1)]

    @property
    def max_points(self) -> int:
        return sum(q.points for q in self.questions if q.graded)

    @property
    def graded(self) -> bool:
        return self.max_points > 0


# --------------------------------------------------------------------------- units


class UnitMeta(Strict):
    """The front matter of a unit file."""

    id: Id
    title: Title
    kind: UnitKind
    duration: Annotated[int, Field(ge=1, le=10_000)]
    aim: Text | None = None
    objectives: tuple[Text, ...] = ()
    quiz: str | None = None


class Unit(Strict):
    id: Id
    title: Title
    kind: UnitKind
    duration: int
    aim: str | None
    objectives: tuple[str, ...]
    file: str
    source: str
    body: str
    body_line: int
    quiz: Quiz | None = None
    quiz_file: str | None = None
    """The quiz file's path in the course folder, for diagnostics about quiz text."""
    quiz_source: str | None = None
    """The same path as authors see it in messages."""


# --------------------------------------------------------------------------- data sets


class DataRow(Strict):
    """One value of a data set, e.g. a region and its rate."""

    label: Text
    value: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    prompt: Id | None = None
    """The prompt of the data set's matching question whose correct answer is this row."""


class DataSet(Strict):
    """A small table of figures from a cited source, drawn as a bar chart (`data/*.yaml`)."""

    id: Id
    title: Title
    period: Text | None = None
    measure: Text
    """Column heading for the values, e.g. 'Homicides per 100,000 population'."""
    unit: Text
    """Written after each value, e.g. '% of the population' or 'out of 100'."""
    label_heading: Text = "Region"
    decimals: Annotated[int, Field(ge=0, le=4)] = 0
    axis_max: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    source: Text
    url: str | None = None
    note: Text | None = None
    question: Id | None = None
    """A matching question whose answer key these rows are; the validator compares the two."""
    rows: Annotated[tuple[DataRow, ...], Field(min_length=1, max_length=40)]

    def value_text(self, value: float) -> str:
        """A value as the source writes it: fixed decimals, thousands separated by commas."""
        return f"{value:,.{self.decimals}f}"


# --------------------------------------------------------------------------- course


class Credits(Strict):
    source: Text
    licence: Text
    authors: tuple[Text, ...] = ()
    url: str | None = None
    #: For whoever distributes the package (e.g. a licence still to confirm): in the manifest's
    #: rights and the facilitator's edition, never on a learner's page.
    distribution: Text | None = None


class Reporting(Strict):
    status: ReportStatus = "passed/incomplete"
    pass_mark: Percent = 80
    assessment: Id | None = None


#: A colour as CSS writes it in hex: '#0b5cad' or '#08c'.
Colour = Annotated[str, StringConstraints(pattern=r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")]
#: Font family names separated by commas, e.g. 'Georgia, "Times New Roman", serif': installed
#: fonts only (nothing that could load a file or end the CSS rule).
FontStack = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        pattern=r"^\s*(\"[A-Za-z0-9 -]+\"|'[A-Za-z0-9 -]+'|[A-Za-z][A-Za-z0-9 -]*)"
        r"(\s*,\s*(\"[A-Za-z0-9 -]+\"|'[A-Za-z0-9 -]+'|[A-Za-z][A-Za-z0-9 -]*))*\s*$",
        max_length=300,
    ),
]


class Theme(Strict):
    """Branding: the accent colour, a logo and a font stack (builder/theme.py)."""

    accent: Colour = "#0b5cad"
    accent_dark: Colour | None = None
    """The accent on dark pages; by default the accent lightened until it reads well."""
    logo: str | None = None
    """An image in media/, shown above the course title (decorative: the title says it)."""
    font: FontStack | None = None
    dark: bool = True
    """Dark pages when the learner's system asks for them (prefers-color-scheme)."""


class CourseFile(Strict):
    """course.yaml as written."""

    id: Id
    title: Title
    version: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z][0-9A-Za-z.+-]{0,31}$")]
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
    description: Text
    keywords: tuple[Text, ...] = ()
    aim: Text | None = None
    objectives: tuple[Text, ...] = ()
    introduction: Text | None = None
    credits: Credits
    reporting: Reporting = Reporting()
    packaging: Mode = "single"
    allow_active_media: bool = False
    """Package .html, .js, .xml media and scripted SVG (they run at the LMS's address)."""
    theme: Theme | None = None
    units: Annotated[tuple[Id, ...], Field(min_length=1)]


class Course(Strict):
    id: str
    title: str
    version: str
    language: str
    description: str
    keywords: tuple[str, ...]
    aim: str | None
    objectives: tuple[str, ...]
    introduction: str | None
    credits: Credits
    reporting: Reporting
    packaging: Mode
    units: tuple[Unit, ...]
    datasets: tuple[DataSet, ...] = ()
    allow_active_media: bool = False
    source: str = "course.yaml"
    """course.yaml's path as authors see it in messages."""
    introduction_line: int = 1
    """The line of course.yaml where the introduction's text starts."""
    theme: Theme | None = None

    @property
    def duration(self) -> int:
        """Typical learning time in minutes: the sum of the units' durations."""
        return sum(u.duration for u in self.units)

    @property
    def assessment(self) -> Unit | None:
        """The unit whose quiz decides passed or failed, if the course reports by score."""
        if self.reporting.status == "completed/incomplete":
            return None
        return next((u for u in self.units if u.id == self.reporting.assessment), None)


# --------------------------------------------------------------------------- LMS identifiers


def response_id(author_id: str) -> str:
    """The SCORM 2004 response identifier of an option, prompt or target id.

    Moodle accepts only letters, digits, `_` and `.` there (`^[\\w.]{1,250}$`), so each other
    character becomes `_`: `criminal-culture` is reported as `criminal_culture`, still readable.
    """
    return "".join(c if c.isascii() and (c.isalnum() or c in "_.") else "_" for c in author_id)
