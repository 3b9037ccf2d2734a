"""The c-transform row pass on torch (CPU by default, CUDA when asked)."""

from ._c_transform import SoftCTransform


class TorchSoftCTransform(SoftCTransform):
    """:class:`~sotlearn._c_transform.SoftCTransform` with the GEMM and exponentials on torch.

    Same parameters as :class:`~sotlearn._c_transform.SoftCTransform`, plus
    ``device`` (a torch device string, default ``"cpu"``). Rows whose kernel
    sum loses precision are redone in float64 on numpy, exactly as there, so
    both backends agree to float32 rounding.

    Examples
    --------
    >>> import numpy as np
    >>> from sotlearn._torch_backend import TorchSoftCTransform
    >>> Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> ct = TorchSoftCTransform(Y, np.zeros(2), np.log([0.5, 0.5]), eps=1e-3, dtype=np.float64)
    >>> np.round(ct(np.array([[2.0, 0.0]])), 4)
    array([0.0007])
    """

    def __init__(self, Y, g, log_b, eps, *, device="cpu", **kwargs):
        super().__init__(Y, g, log_b, eps, **kwargs)
        self.device = device
        # Tensors are built lazily: a CUDA tensor must not be pickled to
        # (or created in the parent of) a worker process.
        self._tensors = None

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_tensors"] = None
        return state

    def _on_device(self):
        import torch

        if self._tensors is None:
            dtype = getattr(torch, self.dtype.name)
            self._tensors = (
                torch.as_tensor(self.W, device=self.device, dtype=dtype),
                torch.as_tensor(self.h, device=self.device, dtype=dtype),
            )
        return self._tensors

    def _kernel_row_sums(self, X):
        import torch

        W, h = self._on_device()
        X, r = self._rows(X, self.dtype)
        with torch.no_grad():
            Z = torch.as_tensor(X, device=W.device) @ W
            Z += h[None, :]
            if r is not None:
                Z += torch.as_tensor(r.astype(self.dtype), device=W.device)[:, None]
            Z.exp_()
            return Z.sum(dim=1, dtype=torch.float64).cpu().numpy()
