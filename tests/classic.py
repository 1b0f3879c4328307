"""An authored problem in the style of the classic by-hand backprop sheet: 4 inputs, layers of 3, 4
and 3 units, a batch of two, ReLU, softmax with cross-entropy. Hidden unit 2 of layer 1 has a
negative ReLU input for both samples, and layer 2's mask blocks one unit per sample."""

CLASSIC = {
    "spec": {"activation": "relu", "loss": "softmax_ce", "lr": "1/10"},
    "given": {
        "X": [["2", "1"], ["1", "-1"], ["0", "2"], ["1", "1"]],
        "W1": [["1", "0", "-1", "1"], ["-1", "1", "0", "-2"], ["0", "1", "1", "0"]],
        "b1": [["1"], ["-1"], ["0"]],
        "W2": [["1", "2", "-1"], ["-1", "0", "1"], ["0", "1", "2"], ["1", "-1", "-2"]],
        "b2": [["1"], ["1"], ["-1"], ["0"]],
        "W3": [["1", "0", "-1", "0"], ["0", "1", "0", "1"], ["-1", "0", "1", "1"]],
        "b3": [["0"], ["0"], ["0"]],
        "Y": [["1", "0"], ["0", "1"], ["0", "0"]],
    },
}
