# wsrun/__init__.pyi - type hints of the wsrun package (python/wsrun/__init__.py
# holds the code and the docstrings).  Must never disagree with it.
import os
from typing import (Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, TypeVar,
                    Union, overload)

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
    stats: Dict[str, int]  # only from wsrun.run, fill and read
    message: str           # only from wsrun.run, fill and read

class RunError(RuntimeError):
    message: str
    status: int
    stats: Optional[Dict[str, int]]

def rng(index: int, seed: Optional[int] = ...) -> numpy.random.Generator: ...
@overload
def map(func: Callable[[int], R], n_or_iterable: int, *, jobs: Optional[int] = ...,
        seed: int = ..., keep_going: bool = ..., retries: int = ...,
        timeout: Optional[float] = ..., progress: Optional[bool] = ...) -> List[R]: ...
@overload
def map(func: Callable[[T], R], n_or_iterable: Iterable[T], *, jobs: Optional[int] = ...,
        seed: int = ..., keep_going: bool = ..., retries: int = ...,
        timeout: Optional[float] = ..., progress: Optional[bool] = ...) -> List[R]: ...

_Path = Union[str, os.PathLike]
_Inputs = Union[_Path, Sequence[_Path]]

def run(plugin: _Path, count: Optional[int] = ..., *, jobs: Optional[int] = ...,
        seed: int = ..., options: Union[Mapping[str, Any], Sequence[str], None] = ...,
        stack_bytes: Optional[int] = ...) -> Dict[str, int]: ...
def fill(inputs: Optional[_Inputs] = ..., count: Optional[int] = ..., *, source: str = ...,
         width: Optional[int] = ..., height: Optional[int] = ..., channels: Optional[int] = ...,
         dtype: Any = ..., value: Optional[int] = ..., convert: Optional[str] = ...,
         max_pixels: Optional[int] = ..., jobs: Optional[int] = ..., seed: int = ...,
         tmpdir: Optional[_Path] = ...) -> numpy.ndarray: ...
def read(inputs: _Inputs, count: Optional[int] = ..., *, mode: Optional[str] = ...,
         convert: Optional[str] = ..., verify: Optional[bool] = ...,
         max_pixels: Optional[int] = ..., jobs: Optional[int] = ..., seed: int = ...,
         tmpdir: Optional[_Path] = ...) -> List[Dict[str, Any]]: ...
