"""The nice-number budgets every generated MLP problem meets, and the search's bounds."""

#: nice-number budgets every generated problem meets
MAX_ABS = 200  # no cell entry larger in magnitude
MAX_DENOMINATOR = 10**12  # no cell entry with a larger denominator
HIDDEN_MAX = 12  # hidden pre-activations stay within ±12 …
SQUASH_MAX = 3  # … within ±3 before a sigmoid or tanh
OUTPUT_MAX = 5  # output pre-activations within ±5 (softmax, sigmoid) …
REGRESSION_MAX = 10  # … or ±10 (mse)
LAYER_TRIES = 20
TARGET_P = 0.06  # a target class's probability stays within [0.06, 0.94]
ROW_TRIES = 1024
BLOCK = 16
ATTEMPTS = 60
PRINT_ATTEMPTS = 6
BASE_SPREAD = 100  # base mode: b^(largest − smallest logit of a column) stays within 100
SPARE_UNITS = (
    3  # a softmax table has this many units beyond one a class (8 classes at 1 decimal: 2)
)
EXACT_TERMS = 6  # outputs × batch in exact mode (see _check_expressions)
EXACT_SIGMOID_TERMS = 2  # the same for squared error of a sigmoid (its square sums fractions)
DRAWN_DIGITS = 4  # tables of a generated problem: 1 to 4 decimals (more for authored ones)
