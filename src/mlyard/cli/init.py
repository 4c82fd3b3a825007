"""`mlyard init [DIR] --template classical|diabetes`: a project repository in MLOps v2's shape.

The files are package data under `cli/project_templates/` (one tree for both templates, each file
named with `.j2` after its own name), rendered with Jinja2 using `@{ … }@` for values and
`@% … %@` for blocks, so that GitHub's `${{ … }}` and Azure Pipelines' `$( … )` pass through
untouched. A template is a set of values (`TEMPLATES`):
the bundled scikit-learn table it starts from, the estimator, the names of its assets. The local
sample in `data/sample/` is written from scikit-learn's bundled data: nothing is downloaded.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from mlyard.cli.output import printed_for_scripts, say
from mlyard.errors import AlreadyExists, InvalidArgument

SAMPLE_SCORING_ROWS = 5  # rows without the target, for scoring validation and smoke tests
GENERATED_GROUP_SEED = 10  # the generated sensitive column is the same in every scaffold (its chance
# differences between groups stay well below the check's 0.1 thresholds)


@dataclass(frozen=True)
class ProjectTemplate:
    """The values that make the one tree of files a diabetes project or a generic tabular one."""

    name: str
    description: str
    dataset: str  # a `sklearn.datasets.load_*` loader: bundled with scikit-learn, no download
    prefix: str  # names of the assets and endpoints: diabetes, diabetes-model, diabetes-prod …
    task: str  # regression or classification
    estimator_import: str
    estimator: str  # an expression of `alpha`, the training parameter
    alpha: float
    metric: str
    goal: str  # minimize or maximize
    # the responsible-AI check's --sensitive-feature: a column init adds to the sample when the
    # bundled table has none (GENERATED_GROUP); it is never a feature of the model
    sensitive_feature: str | None
    checks: str  # the staging checks release.yml runs: prod's require_passing_checks


TEMPLATES = {
    "classical": ProjectTemplate(
        name="classical",
        description="a tabular classification project (scikit-learn's breast cancer table)",
        dataset="load_breast_cancer",
        prefix="tabular",
        task="classification",
        estimator_import="from sklearn.linear_model import LogisticRegression",
        estimator="LogisticRegression(C=1.0 / alpha, max_iter=5000)",
        alpha=1.0,
        metric="accuracy",
        goal="maximize",
        sensitive_feature="group",
        checks="smoke,performance,data_quality,responsible_ai",
    ),
    "diabetes": ProjectTemplate(
        name="diabetes",
        description="the diabetes regression (scikit-learn's diabetes table, a Ridge regression)",
        dataset="load_diabetes",
        prefix="diabetes",
        task="regression",
        estimator_import="from sklearn.linear_model import Ridge",
        estimator="Ridge(alpha=alpha)",
        alpha=0.25,
        metric="rmse",
        goal="minimize",
        sensitive_feature=None,  # a regression: the responsible-AI check is the classical template's
        checks="smoke,performance,data_quality",
    ),
}


def init(
    directory: Annotated[Path, typer.Argument(help="where to create the project (default: here)")] = Path(
        "."
    ),
    template: Annotated[
        str, typer.Option("--template", "-t", help=f"one of: {', '.join(TEMPLATES)}")
    ] = "classical",
    force: Annotated[
        bool, typer.Option("--force", help="write into a non-empty DIR, replacing files of the same name")
    ] = False,
) -> None:
    """Scaffold a project: src, components, pipelines, endpoints, a local sample, tests, config
    per environment, and CI/CD for GitHub Actions and Azure Pipelines calling the mlyard CLI."""
    chosen = TEMPLATES.get(template)
    if chosen is None:
        from mlyard.entities.specs.spec_files import did_you_mean  # pydantic: not for `--help`

        raise InvalidArgument(
            f"--template: unknown template {template!r}{did_you_mean(template, list(TEMPLATES))}; "
            f"the templates are {', '.join(TEMPLATES)}"
        )
    if directory.exists() and not directory.is_dir():
        raise InvalidArgument(f"{directory} is a file, not a folder: give a folder for the project")
    if directory.is_dir() and any(directory.iterdir()) and not force:
        raise AlreadyExists(
            f"{directory.resolve()} is not empty: give an empty or new folder, or --force to write "
            "the project's files into it (files of the same name are replaced)"
        )
    written = scaffold(directory, chosen)
    if printed_for_scripts(
        {"path": str(directory.resolve()), "template": chosen.name, "files": [str(p) for p in written]}
    ):
        return
    say(f"created a {chosen.name} project in {directory} ({len(written)} files): {chosen.description}")
    say(f"next: cd {directory} && python -m pytest tests   (then read README.md: secrets for CI)")


def scaffold(directory: Path, template: ProjectTemplate) -> list[Path]:
    """Write the project's files into `directory`; returns their paths relative to it."""
    import jinja2

    environment = jinja2.Environment(
        variable_start_string="@{",
        variable_end_string="}@",
        block_start_string="@%",
        block_end_string="%@",
        comment_start_string="@#",
        comment_end_string="#@",
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    values = asdict(template) | {"project": _project_name(directory, template)}
    root = resources.files("mlyard.cli").joinpath("project_templates")
    written = []
    for source, relative in _template_files(root, Path()):
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(environment.from_string(source.read_text(encoding="utf-8")).render(values))
        written.append(relative)
    return written + _write_sample(directory, template)


def _template_files(
    folder: resources.abc.Traversable, relative: Path
) -> list[tuple[resources.abc.Traversable, Path]]:
    """Every file below `folder`; a name starting `dot-` stands for a dotted one (`dot-github`),
    as package data skips dotted folders (and a real dotted one is a tool's cache: skipped). Every
    template ends in `.j2`, which the written file drops: a template is not yet Python or YAML, and
    tools that compile or lint the package (compileall, pip, ruff) must not take it for either."""
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name == "__pycache__" or entry.name.startswith("."):  # caches tools leave, never ours
            continue
        name = "." + entry.name.removeprefix("dot-") if entry.name.startswith("dot-") else entry.name
        if entry.is_dir():
            found += _template_files(entry, relative / name)
        elif name.endswith(".j2"):
            found.append((entry, relative / name.removesuffix(".j2")))
    return found


def _write_sample(directory: Path, template: ProjectTemplate) -> list[Path]:
    """The local sample from scikit-learn's bundled table: the whole table with its `target`, the
    first rows without it (what scoring sees), and those rows as an online request body.

    A template whose table has no sensitive feature gets a generated one: `group`, a or b drawn at
    random with a fixed seed. It stands in for a real attribute (sex, age band…) so the
    responsible-AI check has groups to compare; the project's README says so."""
    import numpy as np
    from sklearn import datasets

    frame = getattr(datasets, template.dataset)(as_frame=True).frame
    if template.sensitive_feature and template.sensitive_feature not in frame.columns:
        drawn = np.random.default_rng(GENERATED_GROUP_SEED).choice(["a", "b"], size=len(frame))
        frame.insert(len(frame.columns) - 1, template.sensitive_feature, drawn)
    sample = directory / "data" / "sample"
    sample.mkdir(parents=True, exist_ok=True)
    frame.to_csv(sample / f"{template.prefix}.csv", index=False)
    not_features = ["target", *([template.sensitive_feature] if template.sensitive_feature else [])]
    features = frame.drop(columns=not_features).head(SAMPLE_SCORING_ROWS)
    features.to_csv(sample / "scoring.csv", index=False)
    request = {"input_data": json.loads(features.to_json(orient="split", index=False))}
    (sample / "request.json").write_text(json.dumps(request, indent=2) + "\n")
    return [Path("data/sample") / name for name in (f"{template.prefix}.csv", "scoring.csv", "request.json")]


def _project_name(directory: Path, template: ProjectTemplate) -> str:
    name = directory.resolve().name
    return name if name else template.prefix
