"""The book's five restaurant bills (chapters 2 and 3): portions of three dishes and the total paid.

The true prices are 150, 50 and 100 per portion (`FOOD_X @ [150, 50, 100] == FOOD_Y`), no bias.
"""

from __future__ import annotations

import numpy as np

FOOD_X = np.array([[2, 5, 3], [1, 4, 7], [2, 3, 5], [3, 6, 9], [7, 4, 1]], np.float32)
FOOD_Y = np.array([850, 1050, 950, 1650, 1350], np.float32)
