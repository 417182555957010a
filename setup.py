"""Build hook: the wheel carries sample-repo/ as gitflink/sample_repo, so `gitflink demo` works
after a plain `pip install`. Everything else about the package is in pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SAMPLE_REPO = Path(__file__).parent / "sample-repo"


class BuildWithSampleRepo(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return  # an editable install finds sample-repo/ in the checkout itself
        if not SAMPLE_REPO.is_dir():
            raise FileNotFoundError(f"{SAMPLE_REPO}: `gitflink demo` needs it in the wheel")
        target = Path(self.build_lib) / "gitflink" / "sample_repo"
        shutil.copytree(SAMPLE_REPO, target, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildWithSampleRepo})
