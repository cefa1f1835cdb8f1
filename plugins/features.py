"""The Playground's seven input features, registered in its network order.

The order (x, y, x², y², xy, sin x, sin y) fixes the input-node order and therefore the order in which
initial weights are drawn. The Playground's URL also carries ``cosX`` and ``cosY``, which never had an
effect; they are not features here. The sines are V8's ``Math.sin`` (:mod:`courseware.jsmath`), compiled:
numpy's differs in the last bit on a few percent of points, which an unstable run turns into a
different trajectory.
"""

from courseware import Feature, hookimpl, jsmath


def _sin(values):
    from courseware.jit import elementwise  # numba loads on first use, not when plugins load

    return elementwise(jsmath.sin, values)


def _x(x, y):
    return x


def _y(x, y):
    return y


def _x_squared(x, y):
    return x * x


def _y_squared(x, y):
    return y * y


def _x_times_y(x, y):
    return x * y


def _sin_x(x, y):
    return _sin(x)


def _sin_y(x, y):
    return _sin(y)


@hookimpl
def register_features(register):
    register(Feature("x", "X_1", _x, default=True, description="The point's x coordinate."))
    register(Feature("y", "X_2", _y, default=True, description="The point's y coordinate."))
    register(Feature("xSquared", "X_1^2", _x_squared, description="x squared."))
    register(Feature("ySquared", "X_2^2", _y_squared, description="y squared."))
    register(Feature("xTimesY", "X_1X_2", _x_times_y, description="The product x times y."))
    register(Feature("sinX", "sin(X_1)", _sin_x, description="The sine of x."))
    register(Feature("sinY", "sin(X_2)", _sin_y, description="The sine of y."))
