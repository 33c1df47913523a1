"""From-scratch operators (NumPy / keras.ops) that the notebooks build and check against Keras."""
