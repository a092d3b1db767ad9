"""The ``executor`` / ``chunk_size`` entries that deeplimits.parallel writes into the entry points' docstrings."""

import pydoc

import pytest

from deeplimits.capacity import capacity_profile, run_walkers
from deeplimits.convergence import strong_order
from deeplimits.correlation.depth import sample_one_layer
from deeplimits.correlation.shaped_covariance import sample_covariance
from deeplimits.correlation.shaped_sde import sample_correlation
from deeplimits.correlation.unshaped.sampling import sample_q
from deeplimits.networks import leaky_mlp, relu_mlp
from deeplimits.parallel import CHUNK_PARAMETERS, chunkable, document_chunking
from deeplimits.resnet.exact import exact_resnets
from deeplimits.resnet.finite import random_resnets
from deeplimits.sde import solve

ENTRY_POINTS = [
    leaky_mlp,
    solve,
    run_walkers,
    capacity_profile,
    strong_order,
    sample_one_layer,
    sample_covariance,
    sample_correlation,
    sample_q,
    exact_resnets,
    random_resnets,
]


@pytest.mark.parametrize("fn", ENTRY_POINTS, ids=lambda f: f.__name__)
def test_entry_points_document_executor_and_chunk_size_once(fn):
    doc = fn.__doc__
    params = doc[doc.index("Parameters") : doc.index("Returns")]
    assert params.count("executor : concurrent.futures.Executor or distributed.Client, optional") == 1
    assert params.count("chunk_size : int, optional") == 1
    assert doc.count("executor :") == 1
    text = pydoc.render_doc(fn, renderer=pydoc.plaintext)
    assert "Run the paths in chunks there" in text and "Paths per chunk" in text


def test_notes_follow_the_standard_entry_and_precede_later_parameters():
    doc = strong_order.__doc__
    assert doc.index("Paths per chunk") < doc.index("Every solve of the study is chunked") < doc.index("**solve_kw")
    doc = capacity_profile.__doc__
    assert doc.index("Paths per chunk") < doc.index("Here a multiple of ``batch``") < doc.index("Returns")


def test_a_docstring_that_already_names_executor_is_kept():
    assert relu_mlp.__doc__.count("executor") == 1
    assert "executor : " not in relu_mlp.__doc__


def _draw(n_paths, seed=0, *, first_path=0, executor=None, chunk_size=None):
    return n_paths


@pytest.mark.parametrize("indent", ["", "    "])
def test_entries_are_inserted_at_the_section_indent(indent):
    def f(n_paths, *, executor=None, chunk_size=None, **kw):
        pass

    f.__doc__ = (
        f"Draw.\n\n{indent}Parameters\n{indent}----------\n{indent}n_paths : int\n{indent}    How many.\n"
        f"{indent}**kw\n{indent}    More.\n\n{indent}Returns\n{indent}-------\n{indent}int\n"
    )
    doc = document_chunking(f, note="Note.").__doc__
    expected = "\n".join(indent + line for line in CHUNK_PARAMETERS.split("\n")) + f"\n{indent}    Note.\n"
    assert f"{indent}    How many.\n" + expected + f"{indent}**kw\n" in doc
    assert doc.endswith(f"\n\n{indent}Returns\n{indent}-------\n{indent}int\n")


def test_no_parameters_section_or_no_docstring_is_left_alone():
    _draw.__doc__ = "Draw.\n\nReturns\n-------\nint\n"
    assert chunkable()(_draw).__doc__ == _draw.__doc__
    _draw.__doc__ = None
    assert chunkable()(_draw).__doc__ is None


def test_chunkable_adds_the_keywords_to_the_signature():
    import inspect

    params = inspect.signature(leaky_mlp).parameters
    assert list(params)[-2:] == ["executor", "chunk_size"]
    assert all(params[name].kind is inspect.Parameter.KEYWORD_ONLY for name in ("executor", "chunk_size"))
    assert all(params[name].default is None for name in ("executor", "chunk_size"))
    draw = chunkable()(lambda n_paths, *, first_path=0: list(range(first_path, first_path + n_paths)))
    assert draw(5, executor=None, chunk_size=None) == draw(5) == [0, 1, 2, 3, 4]
    with pytest.raises(TypeError, match="unexpected keyword"):
        draw(5, executr=None)


def test_chunkable_refuses_half_of_the_keywords():
    def half(n_paths, *, first_path=0, executor=None):
        return n_paths

    with pytest.raises(TypeError, match="executor without the other"):
        chunkable()(half)
