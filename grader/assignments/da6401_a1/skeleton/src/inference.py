"""The inference script: load best_model.npy and best_config.json, rebuild the network, and report
its logits, loss, accuracy, f1, precision and recall on the test set.

`np.load("best_model.npy", allow_pickle=True).item()` gives back the dict that was saved.
"""
