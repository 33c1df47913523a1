"""From-scratch operators (NumPy / keras.ops) that the notebooks build and check against Keras."""

from lib.ops.conv import *  # noqa: F401,F403
from lib.ops.pool import *  # noqa: F401,F403
