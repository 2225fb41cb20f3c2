"""The support models: they load, read the features they were trained on, re-rank and decide; weak support."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.core import choose_support
from assistant.render import render_answer
from assistant.settings import Settings
from assistant.support import (
    DECISION_FEATURES,
    SENTENCE_FEATURES,
    LinearModel,
    shipped_models,
    weak_support_below,
)


def test_the_shipped_models_load_and_read_the_features_of_this_build():
    models = shipped_models()
    assert models is not None
    assert models.sentence.features == SENTENCE_FEATURES and models.decision.features == DECISION_FEATURES
    assert 0.0 < models.decline_below < 1.0
    probabilities = models.sentence.probability(np.zeros((2, len(SENTENCE_FEATURES))))
    assert probabilities.shape == (2,) and np.all((0 < probabilities) & (probabilities < 1))


def test_a_model_survives_its_json_form():
    model = LinearModel(
        ("a", "b"),
        np.array([1.0, 2.0]),
        np.array([0.5, 2.0]),
        np.array([0.3, -0.2]),
        0.1,
        np.array([[0.1, 0.2], [0.3, 0.4]]),
        np.array([0.0, 0.1]),
    )
    again = LinearModel.from_json(model.to_json())
    rows = np.array([[1.0, 3.0], [0.0, -1.0]])
    assert np.allclose(again.logit(rows), model.logit(rows))


def test_the_models_are_off_when_switched_off_or_for_another_embedding_model():
    assert choose_support(Settings(support_model=True)) is not None
    assert choose_support(Settings()) is None  # off by default (docs/quality.md says why)
    other_model = Settings(support_model=True, embedding_model="sentence-transformers/all-mpnet-base-v2")
    assert choose_support(other_model) is None


def test_weak_support_is_half_a_unit_of_log_odds_above_the_threshold():
    assert weak_support_below(0.5) == pytest.approx(1 / (1 + np.exp(-0.5)))
    assert weak_support_below(0.0) == 0.0 and weak_support_below(1.2) == 1.2


def test_an_answer_just_above_the_threshold_is_marked_weak(make_assistant, minilm, tmp_path):
    (tmp_path / "ferry.txt").write_text("The ferry to the island leaves the harbour at 7:30 every morning.\n")
    assistant = make_assistant(minilm, support_model=True, decline_threshold=0.0)
    assistant.index_paths([tmp_path])
    question = "When does the ferry leave?"
    clear = assistant.ask(question)
    assert clear.answered
    close = make_assistant(minilm, support_model=True, decline_threshold=clear.evidence - 0.01).ask(question)
    assert close.answered and close.support == "weak"
    assert "(weak support" in render_answer(close)
    assert (
        make_assistant(minilm, support_model=True, decline_threshold=clear.evidence + 0.01).ask(question).answered
        is False
    )
    assert make_assistant(minilm, decline_threshold=clear.evidence - 0.01).ask(question).support == ""  # words only


LEASE = (
    "This lease agreement is made between the landlord, Harbour Estates Ltd, and the tenant, Anna Berg.\n\n"
    "1. Term. The lease starts on 1 March 2024 and runs for an initial term of three years.\n\n"
    "2. Rent. The monthly rent is 1,850 EUR, payable in advance on the first day of each month.\n\n"
    "3. Warranty. The appliances supplied with the flat are guaranteed by the landlord for twelve months from the "
    "start of the lease.\n"
)


def test_a_when_question_is_answered_by_the_dated_clause_alone_and_an_absent_detail_declined(
    make_assistant, minilm, tmp_path
):
    (tmp_path / "lease.txt").write_text(LEASE)
    assistant = make_assistant(minilm, support_model=True)
    assistant.index_paths([tmp_path])
    when = assistant.ask("When does the lease start?")
    assert [c.quote for c in when.citations] == [
        "The lease starts on 1 March 2024 and runs for an initial term of three years."
    ]
    assert not assistant.ask("How much is the deposit?").answered
