"""The batchnorm generator's budgets and the bounds of its search."""

from __future__ import annotations

from fractions import Fraction

#: draws of a whole problem before the search gives up
ATTEMPTS = 80
#: batches drawn in one attempt until one has enough rows of W1 with perfect-square variances
BATCH_TRIES = 192
#: batches drawn and screened at once (one numpy pass over all of them)
SCREENED = 16
#: draws of the output layer for one BN layer before another batch is drawn
HEAD_TRIES = 2
#: draws of gamma and beta for one batch before another batch is drawn
SCALE_TRIES = 40
#: draws of gamma and beta, each with its HEAD_TRIES output layers, before another batch is
HEAD_SCALES = 8
#: draws of the running statistics and Xtest before another batch is drawn
EVAL_TRIES = 20
#: the most candidate rows of W1 screened for a perfect-square variance
CANDIDATES = 4096
#: the running statistics' standard deviations drawn (√(running_var + eps))
RUNNING_SD = (Fraction(1), Fraction(2), Fraction(1, 2), Fraction(3, 2))
#: the most characters a running statistic after the step prints as ("short")
RUNNING_CHARS = 7
#: the largest |Z1| (before BN), and the largest denominator of a batch's standard deviation
Z1_MAX = 10
SD_DENOMINATOR = 4
#: the most rows of X screened for a network of one or two inputs
POOL = 20_000
#: the numerators of a batch's standard deviation drawn (only 2s and 5s: decimals)
DECIMAL_SD = (1, 2, 4, 5, 8, 10, 16, 20, 25, 40, 50)
#: the largest |entry| of the folded layer and of its output on the new input
TEST_MAX = 20
