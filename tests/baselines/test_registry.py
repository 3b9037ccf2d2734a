"""baseline_weighters: every baseline by name, the OT ones as SafetyOTWeighter settings."""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sotlearn import SafetyOTWeighter
from sotlearn.baselines import DSIRWeighter, baseline_weighters
from sotlearn.metrics import weight_auroc


def test_registry_names_and_settings():
    weighters = baseline_weighters(random_state=3)
    assert list(weighters) == [
        "random", "representation_matching", "bidirectional_anchoring", "probe",
        "got_d_clean", "got_d_contrast", "lava", "dsir",
    ]
    assert weighters["random"].random_state == 3
    assert weighters["got_d_clean"].push == 0 and weighters["got_d_clean"].pull == 1
    assert weighters["got_d_contrast"].pull == 0 and weighters["got_d_contrast"].push == 1
    lava = weighters["lava"]
    assert isinstance(lava, SafetyOTWeighter) and (lava.max_iter, lava.learning_rate) == (1, 1.0)
    assert isinstance(weighters["dsir"], DSIRWeighter)
    assert "dsir" not in baseline_weighters(include_text=False)
    # fresh instances on every call: the harness may fit them in parallel
    assert baseline_weighters()["probe"] is not baseline_weighters()["probe"]


def test_every_numeric_baseline_separates_planted_clusters():
    rng = np.random.RandomState(0)
    d = 6
    X_safe = np.eye(d)[0] * 3 + rng.normal(0, 0.4, (25, d))
    X_harm = np.eye(d)[1] * 3 + rng.normal(0, 0.4, (25, d))
    X = np.vstack([np.eye(d)[0] * 3 + rng.normal(0, 0.4, (20, d)), np.eye(d)[1] * 3 + rng.normal(0, 0.4, (5, d))])
    is_harmful = np.r_[np.zeros(20, bool), np.ones(5, bool)]
    for name, weighter in baseline_weighters(random_state=0, include_text=False).items():
        with warnings.catch_warnings():
            # LAVA stops after its one step by design
            warnings.simplefilter("ignore", ConvergenceWarning)
            w = weighter.fit(X_safe, X_harm).score_samples(X)
        assert np.isclose(w.mean(), 1.0), name
        if name != "random":
            assert weight_auroc(w, is_harmful) == 1.0, name
