"""SafetyOTWeighter: push-pull optimal-transport importance weights."""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import logsumexp
from sklearn.base import _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from tqdm.auto import tqdm

from ._cost import METRICS, pairwise_cost, reference_cost_scale
from ._sinkhorn import emd_potentials, marginal_gradient, sinkhorn_potentials
from ._weighter_base import BaseWeighter, split_references

_SOLVERS = ("sinkhorn", "emd")


def safety_ot_weights(
    X,
    X_safe,
    X_harm,
    *,
    reg=0.05,
    push=1.0,
    pull=1.0,
    tau=0.3,
    metric="cosine",
    solver="sinkhorn",
    reg_m=None,
    cost_scale=1.0,
    max_iter=100,
    tol=1e-5,
    learning_rate=0.5,
    sinkhorn_max_iter=1000,
    sinkhorn_tol=1e-7,
    verbose=0,
):
    """Push-pull OT weights of the rows of ``X`` (functional form of :class:`SafetyOTWeighter`).

    Minimises over the simplex, by mirror descent (exponentiated gradient),

        J(w) = pull * OT(mu_w, nu_S) - push * OT(mu_w, nu_H) + tau * KL(w || uniform)

    where ``mu_w`` puts mass ``w_i`` on row ``X[i]`` and ``nu_S``, ``nu_H``
    are uniform on ``X_safe`` and ``X_harm``. The gradient of an OT term with
    respect to ``w`` is its row-side dual potential, so each step solves the
    two OT problems (warm-started) and updates
    ``log w <- (1 - lr) log w - lr (pull f_S - push f_H) / tau`` (normalised).
    The fixed point is ``w_i ~ exp(-(pull f_S_i - push f_H_i) / tau)``.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Downstream embeddings.
    X_safe : ndarray of shape (m_s, d)
        Safe anchor embeddings.
    X_harm : ndarray of shape (m_h, d)
        Harmful reference embeddings.
    reg, push, pull, tau, metric, solver, reg_m, max_iter, tol, learning_rate, \
sinkhorn_max_iter, sinkhorn_tol, verbose
        See :class:`SafetyOTWeighter`.
    cost_scale : float, default=1.0
        Costs are divided by this number before solving.

    Returns
    -------
    weights : ndarray of shape (n,)
        Mean-one weights (``n * w``), float64.
    info : dict
        ``n_iter`` (mirror-descent steps), ``converged`` (bool),
        ``sinkhorn_iter`` (inner iterations in total).

    Examples
    --------
    >>> import numpy as np
    >>> from sotlearn import safety_ot_weights
    >>> X_safe = np.array([[1.0, 0.0], [1.0, 0.1]])
    >>> X_harm = np.array([[0.0, 1.0], [0.1, 1.0]])
    >>> w, info = safety_ot_weights(np.array([[1.0, 0.05], [0.05, 1.0]]), X_safe, X_harm)
    >>> bool(w[0] > w[1]), info["converged"]
    (True, True)
    """
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    terms = []
    for coef, ref, sign in ((pull, X_safe, 1.0), (push, X_harm, -1.0)):
        if coef != 0:
            C = pairwise_cost(X, np.asarray(ref, dtype=np.float64), metric) / cost_scale
            terms.append([sign * coef, C, np.full(C.shape[1], -np.log(C.shape[1])), None])
    log_w = np.full(n, -np.log(n))
    n_iter, sinkhorn_iter, converged = 0, 0, not terms
    progress = tqdm(total=max_iter, desc="SafetyOT", disable=not verbose or not terms, leave=False)
    for n_iter in range(1, max_iter + 1 if terms else 1):
        grad = np.zeros(n)
        for term in terms:
            coef, C, log_b, g = term
            if solver == "emd":
                f, g, inner, _ = emd_potentials(C, log_w, log_b)
            else:
                f, g, inner, _ = sinkhorn_potentials(
                    C, log_w, log_b, reg, g_init=g, reg_m=reg_m,
                    max_iter=sinkhorn_max_iter, tol=sinkhorn_tol,
                )
            term[3] = g
            sinkhorn_iter += inner
            grad += coef * marginal_gradient(f, reg, reg_m)
        target = -grad / tau
        new_log_w = (1.0 - learning_rate) * log_w + learning_rate * (target - logsumexp(target))
        new_log_w -= logsumexp(new_log_w)
        change = float(np.abs(np.exp(new_log_w) - np.exp(log_w)).sum())
        log_w = new_log_w
        progress.update(1)
        progress.set_postfix(change=f"{change:.2e}")
        if change < tol:
            converged = True
            break
    progress.close()
    return n * np.exp(log_w), {"n_iter": n_iter, "converged": converged, "sinkhorn_iter": sinkhorn_iter}


class SafetyOTWeighter(BaseWeighter):
    """Safety Optimal Transport weighter: pull toward safe anchors, push from harmful data.

    Learns one importance weight per downstream row so that the weighted
    downstream distribution is close, in optimal transport, to a trusted safe
    anchor set and far from a harmful reference set (push-pull distributional
    alignment, Wang 2026). With ``w`` on the simplex it minimises

        J(w) = pull * OT_eps(mu_w, nu_S) - push * OT_eps(mu_w, nu_H) + tau * KL(w || uniform)

    by mirror descent, warm-starting Sinkhorn between steps. ``fit`` stores the
    reference sets; the weights are a property of a whole downstream set, so
    :meth:`transform` weights the rows it is given *together*.

    Read more in the :ref:`User Guide <user_guide>`.

    Parameters
    ----------
    reg : float, default=0.05
        Entropic regularisation ``eps``, as a fraction of the median reference
        cost when ``normalize_cost=True``. Small values approach exact OT; very
        small ones (``1e-4``) are solved in the log domain.
    push : float, default=1.0
        Push strength ``lambda`` on the harmful term; 0 gives "pull only"
        (GOT-D clean).
    pull : float, default=1.0
        Weight of the pull term; 0 gives "push only" (GOT-D contrast).
    tau : float, default=0.3
        Strength of the KL pull of ``w`` toward uniform. Larger is flatter.
    metric : {"cosine", "sqeuclidean"}, default="cosine"
        Ground cost between embeddings.
    solver : {"sinkhorn", "emd"}, default="sinkhorn"
        Entropic OT or exact OT (network simplex, ``reg`` unused).
    reg_m : float or None, default=None
        KL relaxation of the marginals for unbalanced OT (``None`` is
        balanced). With unbalanced OT an outlying downstream row need not be
        transported, and its gradient saturates at ``reg_m + reg``.
    normalize_cost : bool, default=True
        Divide costs by the median cost among the reference rows, so ``reg``
        and ``tau`` are unit-free.
    max_iter : int, default=100
        Mirror-descent steps. ``max_iter=1, learning_rate=1.0`` is the one-step
        OT score (LAVA / GOT-D).
    tol : float, default=1e-5
        Stop when the L1 change of ``w`` in a step falls below ``tol``.
    learning_rate : float in (0, 1], default=0.5
        Mirror-descent step as a fraction of the way to the fixed point.
    sinkhorn_max_iter : int, default=1000
        Inner Sinkhorn iterations per OT solve.
    sinkhorn_tol : float, default=1e-7
        Inner tolerance on the change of the dual potentials (cost units).
    keep_ratio : float in (0, 1], default=0.8
        Fraction of rows :meth:`select` keeps.
    random_state : int, RandomState instance or None, default=None
        Seeds the subsample of reference rows used for the cost scale
        (drawn only when there are more than 1000 reference rows).
    verbose : int, default=0
        Show a progress bar of the mirror-descent steps.

    Attributes
    ----------
    X_safe_ : ndarray of shape (m_s, n_features)
        Safe anchor.
    X_harm_ : ndarray of shape (m_h, n_features)
        Harmful reference.
    cost_scale_ : float
        Divisor applied to every cost (1.0 when ``normalize_cost=False``).
    weights_ : ndarray of shape (n_train,)
        Weights of the training rows weighted together as a downstream set
        (``X`` in the labelled form, ``[X_safe; X_harm]`` in the two-matrix
        form): a diagnostic, safe rows should outweigh harmful ones.
    n_iter_ : int
        Mirror-descent steps of the solve behind ``weights_``.
    converged_ : bool
        Whether that solve met ``tol``.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during :term:`fit`, when ``X`` has string
        column names.

    See Also
    --------
    safety_ot_weights : The same computation as a function, with per-call
        convergence information.
    WeightedEstimator : Pass the weights as ``sample_weight`` to another
        estimator.

    Notes
    -----
    Two call forms give the same fitted state:
    ``fit(X_safe, X_harm)`` with two matrices, and ``fit(X, y)`` with labels
    ``0`` (safe anchor), ``1`` (harmful reference) and ``-1`` (unlabelled
    downstream rows, ignored by the references but weighted in ``weights_``),
    the semi-supervised ``-1`` convention of scikit-learn and POT, so that an
    upstream embedder sees the references too and cross-validation can split
    them.

    References
    ----------
    .. [1] Wang, "Safeguarding LLM Fine-tuning via Push-Pull Distributional
       Alignment", ACL 2026, arXiv:2601.07200.
    .. [2] Just et al., "LAVA: Data Valuation without Pre-Specified Learning
       Algorithms", ICLR 2023.
    .. [3] Kang et al., "Get more for less: Principled Data Selection for
       Warming Up Fine-Tuning in LLMs" (GOT-D), ICLR 2024.
    .. [4] Sejourne et al., "Sinkhorn Divergences for Unbalanced Optimal
       Transport", 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from sotlearn import SafetyOTWeighter
    >>> rng = np.random.RandomState(0)
    >>> X_safe = rng.normal([3, 0], 0.3, size=(20, 2))
    >>> X_harm = rng.normal([0, 3], 0.3, size=(20, 2))
    >>> X = np.vstack([rng.normal([3, 0], 0.3, (8, 2)), rng.normal([0, 3], 0.3, (2, 2))])
    >>> weighter = SafetyOTWeighter().fit(X_safe, X_harm)
    >>> w = weighter.score_samples(X)
    >>> bool(w[:8].min() > w[8:].max())
    True
    >>> weighter.select(X).sum()
    np.int64(8)
    """

    _parameter_constraints = {
        "reg": [Interval(Real, 0, None, closed="neither")],
        "push": [Interval(Real, 0, None, closed="left")],
        "pull": [Interval(Real, 0, None, closed="left")],
        "tau": [Interval(Real, 0, None, closed="neither")],
        "metric": [StrOptions(set(METRICS))],
        "solver": [StrOptions(set(_SOLVERS))],
        "reg_m": [None, Interval(Real, 0, None, closed="neither")],
        "normalize_cost": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "learning_rate": [Interval(Real, 0, 1, closed="right")],
        "sinkhorn_max_iter": [Interval(Integral, 1, None, closed="left")],
        "sinkhorn_tol": [Interval(Real, 0, None, closed="left")],
        "keep_ratio": [Interval(Real, 0, 1, closed="right")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        reg=0.05,
        push=1.0,
        pull=1.0,
        tau=0.3,
        metric="cosine",
        solver="sinkhorn",
        reg_m=None,
        normalize_cost=True,
        max_iter=100,
        tol=1e-5,
        learning_rate=0.5,
        sinkhorn_max_iter=1000,
        sinkhorn_tol=1e-7,
        keep_ratio=0.8,
        random_state=None,
        verbose=0,
    ):
        self.reg = reg
        self.push = push
        self.pull = pull
        self.tau = tau
        self.metric = metric
        self.solver = solver
        self.reg_m = reg_m
        self.normalize_cost = normalize_cost
        self.max_iter = max_iter
        self.tol = tol
        self.learning_rate = learning_rate
        self.sinkhorn_max_iter = sinkhorn_max_iter
        self.sinkhorn_tol = sinkhorn_tol
        self.keep_ratio = keep_ratio
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Store the safe anchor and harmful reference, and weight the training rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The safe anchor (two-matrix form) or all rows (labelled form).
        y : array-like of shape (m_h, n_features) or (n_samples,)
            The harmful reference (two-matrix form) or labels in {-1, 0, 1}.

        Returns
        -------
        self : SafetyOTWeighter
            The fitted weighter.
        """
        if self.solver == "emd" and self.reg_m is not None:
            raise ValueError("solver='emd' solves balanced OT only; set reg_m=None or solver='sinkhorn'.")
        if self.push == 0 and self.pull == 0:
            raise ValueError("push and pull are both 0: there is nothing to optimise.")
        X_safe, X_harm, X_train = split_references(self, X, y)
        self.X_safe_, self.X_harm_ = X_safe, X_harm
        if self.normalize_cost:
            rng = check_random_state(self.random_state)
            self.cost_scale_ = reference_cost_scale(
                np.vstack([X_safe, X_harm]).astype(np.float64), self.metric, rng
            )
        else:
            self.cost_scale_ = 1.0
        weights, info = self._solve(X_train)
        self.weights_ = weights.astype(X_train.dtype)
        self.n_iter_, self.converged_ = info["n_iter"], info["converged"]
        return self

    def _solve(self, X):
        weights, info = safety_ot_weights(
            X, self.X_safe_, self.X_harm_,
            reg=self.reg, push=self.push, pull=self.pull, tau=self.tau,
            metric=self.metric, solver=self.solver, reg_m=self.reg_m,
            cost_scale=self.cost_scale_, max_iter=self.max_iter, tol=self.tol,
            learning_rate=self.learning_rate, sinkhorn_max_iter=self.sinkhorn_max_iter,
            sinkhorn_tol=self.sinkhorn_tol, verbose=self.verbose,
        )
        if not info["converged"]:
            warnings.warn(
                f"SafetyOTWeighter did not converge in max_iter={self.max_iter} mirror-descent "
                f"steps (tol={self.tol}); raise max_iter or tau, or lower learning_rate.",
                ConvergenceWarning,
                stacklevel=3,
            )
        if not np.all(np.isfinite(weights)):
            raise FloatingPointError(
                f"SafetyOTWeighter produced non-finite weights with reg={self.reg}, "
                f"tau={self.tau}; raise reg or tau."
            )
        return weights, info

    def _compute_weights(self, X):
        return self._solve(X)[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
