"""Integer code generated from ``cnnmacros.formulas`` by ``python -m cnnmacros.codegen``.

Do not edit: a test regenerates this file and fails if it differs.
"""

# ruff: noqa: E501, N803


def batchnorm_non_trainable(C):
    return 2*C


def batchnorm_scales(C):
    return C


def batchnorm_shifts(C):
    return C


def batchnorm_trainable(C):
    return 2*C


def concat_channels(C_1, C_2):
    return C_1 + C_2


def conv1d_params(K_w, C_in, G, C_out):
    return (C_out*(C_in*K_w + G)) // (G)


def conv1d_weights(K_w, C_in, G, C_out):
    return (C_in*C_out*K_w) // (G)


def conv2d_params(K_h, K_w, C_in, G, C_out):
    return (C_out*(C_in*K_h*K_w + G)) // (G)


def conv2d_weights(K_h, K_w, C_in, G, C_out):
    return (C_in*C_out*K_h*K_w) // (G)


def conv3d_params(K_d, K_h, K_w, C_in, G, C_out):
    return (C_out*(C_in*K_d*K_h*K_w + G)) // (G)


def conv3d_weights(K_d, K_h, K_w, C_in, G, C_out):
    return (C_in*C_out*K_d*K_h*K_w) // (G)


def conv_biases(C_out):
    return C_out


def conv_output_size(I, K, S, P, D):
    return ((-D*(K - 1) + I + 2*P - 1) // (S)) + 1


def conv_output_size_d1(I, K, S, P):
    return ((I - K + 2*P) // (S)) + 1


def conv_output_size_same(I):
    return I


def dense_after_conv_weights(O, C, F):
    return C*F*O**2


def dense_biases(F):
    return F


def dense_params(N, F):
    return F*(N + 1)


def dense_weights(N, F):
    return F*N


def dilated_extent(K, D):
    return D*(K - 1) + 1


def flatten_units(H, W, C):
    return C*H*W


def pool_output_size(I, K, S, P):
    return ((I - K + 2*P) // (S)) + 1


def pool_output_size_ceil(I, K, S, P):
    return (((-((-(I - K + 2*P)) // (S)))) if (I + P <= S*(-((-(I - K + 2*P)) // (S)))) else ((-((-(I - K + 2*P)) // (S))) + 1))


def same_padding_total(K, D):
    return D*(K - 1)
