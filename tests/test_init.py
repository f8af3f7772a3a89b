import pytest
import torch

from rnnlab import GRU, LSTM, RNN
from rnnlab.nn.init import initialize, recurrent_blocks, spectral_radius


def test_identity_init_is_irnn():
    rnn = initialize(RNN(3, 5, nonlinearity="relu"), "identity", generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(rnn.weight_hh_l0, torch.eye(5))
    assert torch.count_nonzero(rnn.bias_hh_l0) == 0 and torch.count_nonzero(rnn.bias_ih_l0) == 0
    assert rnn.weight_ih_l0.std() < 0.01


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_orthogonal_blocks_have_unit_singular_values(cls):
    m = initialize(cls(3, 6, num_layers=2), "orthogonal", generator=torch.Generator().manual_seed(0))
    for name, p in m.named_parameters():
        if "weight_hh" in name:
            for block in recurrent_blocks(p):
                torch.testing.assert_close(torch.linalg.svdvals(block), torch.ones(6), atol=1e-5, rtol=0)


@pytest.mark.parametrize("scheme", ["default", "xavier", "orthogonal", "identity"])
@pytest.mark.parametrize("radius", [0.5, 2.0])
def test_spectral_radius_is_set(scheme, radius):
    m = initialize(LSTM(3, 8), scheme, spectral_radius_target=radius, generator=torch.Generator().manual_seed(1))
    for block in recurrent_blocks(m.weight_hh_l0):
        assert spectral_radius(block) == pytest.approx(radius, rel=1e-4)


def test_seeded_initialisation_repeats():
    a = initialize(GRU(3, 4), "default", generator=torch.Generator().manual_seed(3))
    b = initialize(GRU(3, 4), "default", generator=torch.Generator().manual_seed(3))
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q)


def test_unknown_scheme_is_refused():
    with pytest.raises(ValueError, match="choose from"):
        initialize(RNN(2, 2), "magic")


def test_seed_everything_refuses_to_reseed_a_running_app_server(monkeypatch):
    """Seeding the global generators is for a process that runs one training; in the app server every
    session's threads share them."""
    import sys
    import types

    from rnnlab.runtime.device import seed_everything

    monkeypatch.setitem(sys.modules, "streamlit.runtime", types.SimpleNamespace(exists=lambda: True))
    with pytest.raises(RuntimeError, match="explicit|Generator"):
        seed_everything(0)
    monkeypatch.setitem(sys.modules, "streamlit.runtime", types.SimpleNamespace(exists=lambda: False))
    assert seed_everything(0).initial_seed() == 0
