"""Optimizers: sgd, momentum, nag, rmsprop, adam, nadam.

`step(layers)` moves every layer's W and b using the gradients its last backward left in
grad_W and grad_b. Weight decay is L2 on the weights only: g_W = grad_W + weight_decay * W;
biases are never decayed. With learning rate eta and gradient g:

    sgd       W -= eta g
    momentum  v = beta v + eta g;  W -= v
    nag       the same, with g taken at the look-ahead point W - beta v (see NAG)
    rmsprop   s = beta s + (1 - beta) g^2;  W -= eta g / (sqrt(s) + eps)
    adam      m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,  t counts steps;
              m_hat = m / (1 - b1^t),  v_hat = v / (1 - b2^t);  W -= eta m_hat / (sqrt(v_hat) + eps)
    nadam     W -= eta (b1 m_hat + (1 - b1) g / (1 - b1^t)) / (sqrt(v_hat) + eps)

Defaults: momentum = beta = beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8.
"""
import numpy as np


class Optimizer:
    def __init__(self, learning_rate, weight_decay=0.0):
        self.learning_rate = float(learning_rate)
        self.weight_decay = float(weight_decay)
        self.state = {}  # (slot name, "W" or "b", layer index) -> array

    def look_ahead(self, layers):
        """Called before the forward pass whose gradients the next step uses; only NAG moves here."""

    def begin_step(self):
        """Called once per step, before any parameter moves."""

    def step(self, layers):
        self.begin_step()
        for index, layer in enumerate(layers):
            grad_W = layer.grad_W + self.weight_decay * layer.W  # L2 on weights, never biases
            layer.W = self.update(("W", index), layer.W, grad_W)
            layer.b = self.update(("b", index), layer.b, layer.grad_b)

    def update(self, key, param, grad):
        """The new value of the parameter `key`, given its gradient."""
        raise NotImplementedError

    def slot(self, name, key, like):
        """Per-parameter state such as a velocity, zeros until first stored."""
        return self.state.get((name,) + key, np.zeros_like(like))

    def store(self, name, key, value):
        self.state[(name,) + key] = value


class SGD(Optimizer):
    def update(self, key, param, grad):
        return param - self.learning_rate * grad


class Momentum(Optimizer):
    def __init__(self, learning_rate, weight_decay=0.0, momentum=0.9):
        super().__init__(learning_rate, weight_decay)
        self.momentum = float(momentum)

    def update(self, key, param, grad):
        velocity = self.momentum * self.slot("velocity", key, param) + self.learning_rate * grad
        self.store("velocity", key, velocity)
        return param - velocity


class NAG(Momentum):
    """Nesterov momentum in look-ahead form: v = beta v + eta grad(W - beta v); W -= v.

    `look_ahead` moves the weights to W - beta v before the forward pass; `step` moves them
    back before the momentum update, so the gradient used is the one at the look-ahead point.
    A step without a look-ahead before it is a momentum step.
    """

    def __init__(self, learning_rate, weight_decay=0.0, momentum=0.9):
        super().__init__(learning_rate, weight_decay, momentum)
        self.ahead = False

    def look_ahead(self, layers):
        self.shift(layers, -self.momentum)
        self.ahead = True

    def step(self, layers):
        if self.ahead:
            self.shift(layers, self.momentum)  # back to W before W moves
            self.ahead = False
        super().step(layers)

    def shift(self, layers, factor):
        for index, layer in enumerate(layers):
            layer.W = layer.W + factor * self.slot("velocity", ("W", index), layer.W)
            layer.b = layer.b + factor * self.slot("velocity", ("b", index), layer.b)


class RMSProp(Optimizer):
    def __init__(self, learning_rate, weight_decay=0.0, beta=0.9, epsilon=1e-8):
        super().__init__(learning_rate, weight_decay)
        self.beta = float(beta)
        self.epsilon = float(epsilon)

    def update(self, key, param, grad):
        square = self.beta * self.slot("square", key, param) + (1.0 - self.beta) * grad * grad
        self.store("square", key, square)
        return param - self.learning_rate * grad / (np.sqrt(square) + self.epsilon)


class Adam(Optimizer):
    def __init__(self, learning_rate, weight_decay=0.0, beta1=0.9, beta2=0.999, epsilon=1e-8):
        super().__init__(learning_rate, weight_decay)
        self.beta1 = float(beta1)
        self.beta2 = float(beta2)
        self.epsilon = float(epsilon)
        self.t = 0  # steps taken: one per update of the whole network

    def begin_step(self):
        self.t += 1

    def moments(self, key, grad):
        """The bias-corrected first and second moments (m_hat, v_hat) after this gradient."""
        m = self.beta1 * self.slot("m", key, grad) + (1.0 - self.beta1) * grad
        v = self.beta2 * self.slot("v", key, grad) + (1.0 - self.beta2) * grad * grad
        self.store("m", key, m)
        self.store("v", key, v)
        return m / (1.0 - self.beta1 ** self.t), v / (1.0 - self.beta2 ** self.t)

    def update(self, key, param, grad):
        m_hat, v_hat = self.moments(key, grad)
        return param - self.learning_rate * m_hat / (np.sqrt(v_hat) + self.epsilon)


class Nadam(Adam):
    def update(self, key, param, grad):
        m_hat, v_hat = self.moments(key, grad)
        nesterov = self.beta1 * m_hat + (1.0 - self.beta1) * grad / (1.0 - self.beta1 ** self.t)
        return param - self.learning_rate * nesterov / (np.sqrt(v_hat) + self.epsilon)


def option(args, name, default):
    """args.name, or `default` when the namespace lacks it or holds None."""
    value = getattr(args, name, None)
    return default if value is None else value


def make_optimizer(args):
    """The optimizer `args.optimizer` names, with its hyperparameters read from `args`."""
    name = option(args, "optimizer", "sgd")
    common = {"learning_rate": option(args, "learning_rate", 0.01),
              "weight_decay": option(args, "weight_decay", 0.0)}
    epsilon = option(args, "epsilon", 1e-8)
    if name == "sgd":
        return SGD(**common)
    if name in ("momentum", "nag"):
        kind = Momentum if name == "momentum" else NAG
        return kind(**common, momentum=option(args, "momentum", 0.9))
    if name == "rmsprop":
        return RMSProp(**common, beta=option(args, "beta", 0.9), epsilon=epsilon)
    if name in ("adam", "nadam"):
        kind = Adam if name == "adam" else Nadam
        return kind(**common, beta1=option(args, "beta1", 0.9), beta2=option(args, "beta2", 0.999), epsilon=epsilon)
    raise ValueError(f"unknown optimizer {name!r}; choose sgd, momentum, nag, rmsprop, adam or nadam")
