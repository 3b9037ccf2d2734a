import numpy as np
import pytest

from sotlearn import top_k_mask


def test_worked_example_with_ties():
    assert top_k_mask([0.2, 3.0, 1.0, 1.0], 0.5).tolist() == [False, True, True, False]
    assert top_k_mask(np.arange(10.0), 0.7).sum() == 7  # 0.7 * 10 is 7.000000000000001
    assert top_k_mask(np.arange(3.0), 0.5).tolist() == [False, True, True]  # ceil(1.5)
    assert top_k_mask([5.0], 1.0).tolist() == [True]


@pytest.mark.parametrize("ratio", [0, 1.01, -1, True, "0.5"])
def test_bad_ratio(ratio):
    with pytest.raises(ValueError, match="keep_ratio must be a float in"):
        top_k_mask([1.0, 2.0], ratio)


def test_bad_weights():
    with pytest.raises(ValueError, match="1-D"):
        top_k_mask(np.ones((2, 2)), 0.5)
    with pytest.raises(ValueError, match="NaN or inf"):
        top_k_mask([1.0, np.nan], 0.5)
