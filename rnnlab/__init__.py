"""rnnlab: recurrent networks you can look inside. No Streamlit here; the app's pages call into this."""
from .nn.cells import GATES, GRUCell, LSTMCell, RNNCell
from .nn.layers import GRU, LSTM, RNN, Trace, from_torch, make_recurrent, to_torch
from .runtime.device import device_label, pick_device, seed_everything

__all__ = ["GATES", "RNNCell", "LSTMCell", "GRUCell", "RNN", "LSTM", "GRU", "Trace", "make_recurrent",
           "from_torch", "to_torch", "pick_device", "device_label", "seed_everything"]
__version__ = "0.1.0"
