# wsrun/__init__.pyi - type hints of the wsrun package (python/wsrun/__init__.py
# holds the code and the docstrings).  Must never disagree with it.
from typing import Any, Callable, Dict, Iterable, List, Optional, TypeVar, overload

import numpy

T = TypeVar("T")
R = TypeVar("R")

seed: int

class Failure:
    index: int
    type: Optional[str]
    text: str
    traceback: str
    exception: Optional[BaseException]
    signal: Optional[int]
    def line(self) -> str: ...

class TaskError(Exception):
    index: int
    type: Optional[str]
    text: str
    traceback: str
    signal: Optional[int]
    failures: List[Failure]
    results: Dict[int, Any]

def rng(index: int, seed: Optional[int] = ...) -> numpy.random.Generator: ...
@overload
def map(func: Callable[[int], R], n_or_iterable: int, *, jobs: Optional[int] = ...,
        seed: int = ..., keep_going: bool = ..., retries: int = ...,
        timeout: Optional[float] = ..., progress: Optional[bool] = ...) -> List[R]: ...
@overload
def map(func: Callable[[T], R], n_or_iterable: Iterable[T], *, jobs: Optional[int] = ...,
        seed: int = ..., keep_going: bool = ..., retries: int = ...,
        timeout: Optional[float] = ..., progress: Optional[bool] = ...) -> List[R]: ...
