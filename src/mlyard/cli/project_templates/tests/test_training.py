"""Unit tests of the training code: the split, the fit and the metric, on the local sample."""

from pathlib import Path

import pandas as pd

import prep
import train
from evaluate import TARGET, score


def test_the_split_is_the_same_every_time(sample: Path):
    frame = pd.read_csv(sample)
    first, second = prep.split(frame, 0.2), prep.split(frame, 0.2)
    assert first[0].equals(second[0]) and first[1].equals(second[1])
    assert len(first[0]) + len(first[1]) == len(frame)


def test_a_model_trained_on_the_sample_beats_a_constant(sample: Path):
    train_part, test_part = prep.split(pd.read_csv(sample), 0.2)
    model = train.fit(train_part, @{ alpha }@)
    value = score(model, test_part)
@%- if goal == "minimize" %@
    constant = float(((test_part[TARGET] - train_part[TARGET].mean()) ** 2).mean() ** 0.5)
    assert value < constant
@%- else %@
    constant = float((test_part[TARGET] == train_part[TARGET].mode()[0]).mean())
    assert value > constant
@%- endif %@


def test_prep_and_train_write_their_outputs(sample: Path, tmp_path: Path):
    prep.main(["--raw_data", str(sample), "--split_data", str(tmp_path / "split")])
    train.main(["--training_data", str(tmp_path / "split"), "--model_output", str(tmp_path / "model")])
    assert (tmp_path / "model" / "model.joblib").is_file()
