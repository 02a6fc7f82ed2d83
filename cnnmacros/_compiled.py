"""Integer code generated from ``cnnmacros.formulas`` by ``python -m cnnmacros.codegen``.

Do not edit: a test regenerates this file and fails if it differs.
"""

# ruff: noqa: E501, N803


def _max(*values):
    """max() of integers; SymPy's Max when a size is symbolic."""
    if all(isinstance(v, int) for v in values):
        return max(values)
    import sympy

    return sympy.Max(*values)


def _min(*values):
    """min() of integers; SymPy's Min when a size is symbolic."""
    if all(isinstance(v, int) for v in values):
        return min(values)
    import sympy

    return sympy.Min(*values)


def _select(condition, then, otherwise):
    """``then if condition else otherwise``; a SymPy Piecewise when the condition is undecided."""
    if condition in (True, False):
        return then if condition else otherwise
    import sympy

    return sympy.Piecewise((then, condition), (otherwise, True))


def activations1d(O_w, C):
    return C*O_w


def activations2d(O_h, O_w, C):
    return C*O_h*O_w


def activations3d(O_d, O_h, O_w, C):
    return C*O_d*O_h*O_w


def activations_vector(C):
    return C


def batchnorm_macs_params(C):
    return 2*C


def batchnorm_non_trainable(C):
    return 2*C


def batchnorm_saved_bytes(C, Z_e):
    return 2*C*Z_e


def batchnorm_scales(C):
    return C


def batchnorm_shifts(C):
    return C


def batchnorm_trainable(C):
    return 2*C


def buffer_bytes(N_s, Z_e, N_c):
    return 8*N_c + N_s*Z_e


def concat_channels(C_1, C_2):
    return C_1 + C_2


def conv1d_macs(C_out, O_w, C_in, G, K_w):
    return (C_in*C_out*K_w*O_w) // (G)


def conv1d_macs_bias(C_out, O_w, C_in, G, K_w):
    return (C_out*O_w*(C_in*K_w + G)) // (G)


def conv1d_params(K_w, C_in, G, C_out):
    return (C_out*(C_in*K_w + G)) // (G)


def conv1d_weights(K_w, C_in, G, C_out):
    return (C_in*C_out*K_w) // (G)


def conv2d_macs(C_out, O_h, O_w, C_in, G, K_h, K_w):
    return (C_in*C_out*K_h*K_w*O_h*O_w) // (G)


def conv2d_macs_bias(C_out, O_h, O_w, C_in, G, K_h, K_w):
    return (C_out*O_h*O_w*(C_in*K_h*K_w + G)) // (G)


def conv2d_params(K_h, K_w, C_in, G, C_out):
    return (C_out*(C_in*K_h*K_w + G)) // (G)


def conv2d_weights(K_h, K_w, C_in, G, C_out):
    return (C_in*C_out*K_h*K_w) // (G)


def conv3d_macs(C_out, O_d, O_h, O_w, C_in, G, K_d, K_h, K_w):
    return (C_in*C_out*K_d*K_h*K_w*O_d*O_h*O_w) // (G)


def conv3d_macs_bias(C_out, O_d, O_h, O_w, C_in, G, K_d, K_h, K_w):
    return (C_out*O_d*O_h*O_w*(C_in*K_d*K_h*K_w + G)) // (G)


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


def conv_output_size_same_strided(I, S):
    return (-((-(I)) // (S)))


def convtranspose1d_macs(C_in, I_w, C_out, G, K_w):
    return (C_in*C_out*I_w*K_w) // (G)


def convtranspose1d_macs_bias(C_in, I_w, C_out, G, K_w, O_w):
    return (C_out*(C_in*I_w*K_w + G*O_w)) // (G)


def convtranspose1d_macs_output_grid(C_out, O_w, C_in, G, K_w):
    return (C_in*C_out*K_w*O_w) // (G)


def convtranspose2d_macs(C_in, I_h, I_w, C_out, G, K_h, K_w):
    return (C_in*C_out*I_h*I_w*K_h*K_w) // (G)


def convtranspose2d_macs_bias(C_in, I_h, I_w, C_out, G, K_h, K_w, O_h, O_w):
    return (C_out*(C_in*I_h*I_w*K_h*K_w + G*O_h*O_w)) // (G)


def convtranspose2d_macs_output_grid(C_out, O_h, O_w, C_in, G, K_h, K_w):
    return (C_in*C_out*K_h*K_w*O_h*O_w) // (G)


def convtranspose3d_macs(C_in, I_d, I_h, I_w, C_out, G, K_d, K_h, K_w):
    return (C_in*C_out*I_d*I_h*I_w*K_d*K_h*K_w) // (G)


def convtranspose3d_macs_bias(C_in, I_d, I_h, I_w, C_out, G, K_d, K_h, K_w, O_d, O_h, O_w):
    return (C_out*(C_in*I_d*I_h*I_w*K_d*K_h*K_w + G*O_d*O_h*O_w)) // (G)


def convtranspose3d_macs_output_grid(C_out, O_d, O_h, O_w, C_in, G, K_d, K_h, K_w):
    return (C_in*C_out*K_d*K_h*K_w*O_d*O_h*O_w) // (G)


def convtranspose_output_size(I, K, S, P, D, P_o):
    return D*(K - 1) - 2*P + P_o + S*(I - 1) + 1


def crop_output_size(I, V_b, V_a):
    return I - V_a - V_b


def dense_biases(N_out):
    return N_out


def dense_inputs(H, W, C):
    return C*H*W


def dense_macs(N_in, N_out):
    return N_in*N_out


def dense_macs_bias(N_in, N_out):
    return N_out*(N_in + 1)


def dense_macs_positions(Q, N_in, N_out):
    return N_in*N_out*Q


def dense_macs_positions_bias(Q, N_in, N_out):
    return N_out*Q*(N_in + 1)


def dense_params(N_in, N_out):
    return N_out*(N_in + 1)


def dense_weights(N_in, N_out):
    return N_in*N_out


def dilated_extent(K, D):
    return D*(K - 1) + 1


def field_jump(J_in, S):
    return J_in*S


def field_offset(X_in, P_b, J_in):
    return -J_in*P_b + X_in


def field_size(R_in, K, D, J_in):
    return D*J_in*(K - 1) + R_in


def field_union_offset(X_1, X_2):
    return _min(X_1, X_2)


def field_union_size(X_1, R_1, X_2, R_2):
    return _max(R_1 + X_1, R_2 + X_2) - _min(X_1, X_2)


def flatten_units(H, W, C):
    return C*H*W


def flops(M):
    return 2*M


def forward_backward_bytes(A_p, Z_e):
    return 2*A_p*Z_e


def global_pool_output_size():
    return 1


def grad_bytes(N_p, Z_e):
    return N_p*Z_e


def groupnorm_saved_bytes(B, G, Z_e):
    return 2*B*G*Z_e


def input_bytes(B, E, Z_e):
    return B*E*Z_e


def instancenorm_saved_bytes(N_r, B, C, Z_e):
    return B*C*Z_e*(N_r + 2)


def largest_batch(Z_M, Z_0, Z_1):
    return ((-Z_0 + Z_M) // (Z_1))


def layernorm_saved_bytes(B, A, C, Z_e):
    return (2*A*B*Z_e) // (C)


def lrn_macs_ptflops(A_in, C, K):
    return (A_in*(4*C + K - 1)) // (C)


def lrn_saved_bytes(B, A, C, K, Z_e):
    return (A*B*Z_e*(3*C + K - 1)) // (C)


def macs_bicubic_thop(A):
    return 259*A


def macs_eleven_per_output(A):
    return 11*A


def macs_five_per_input(A_in):
    return 5*A_in


def macs_five_per_output(A):
    return 5*A


def macs_four_per_input(A_in):
    return 4*A_in


def macs_four_per_output(A):
    return 4*A


def macs_input_plus_channels(A_in, C):
    return A_in + C


def macs_input_plus_output(A_in, A):
    return A + A_in


def macs_of_parameters(N_p):
    return N_p


def macs_params_at_outputs1d(N_p, O_w):
    return N_p*O_w


def macs_params_at_outputs2d(N_p, O_h, O_w):
    return N_p*O_h*O_w


def macs_params_at_outputs3d(N_p, O_d, O_h, O_w):
    return N_p*O_d*O_h*O_w


def macs_per_input(A_in):
    return A_in


def macs_per_output(A):
    return A


def macs_twice_per_input(A_in):
    return 2*A_in


def macs_twice_per_output(A):
    return 2*A


def norm_affine_params(C):
    return 2*C


def optimizer_bytes(N_o, N_p, Z_e):
    return N_o*N_p*Z_e


def pad_output_size(I, P_b, P_a):
    return I + P_a + P_b


def padded_size(I, P_t):
    return I + P_t


def padding_before_half(P_t):
    return ((P_t) // (2))


def param_bytes(N_p, Z_e):
    return N_p*Z_e


def pool_output_size(I, K, S, P):
    return ((I - K + 2*P) // (S)) + 1


def pool_output_size_ceil(I, K, S, P):
    return _select((I + P <= S*(-((-(I - K + 2*P)) // (S)))), (-((-(I - K + 2*P)) // (S))), (-((-(I - K + 2*P)) // (S))) + 1)


def prelu_weights(C):
    return C


def same_padded_size(I, K, D):
    return D*(K - 1) + I - 2*((D*(K - 1)) // (2))


def same_padding_before(K, D):
    return ((D*(K - 1)) // (2))


def same_padding_total(K, D):
    return D*(K - 1)


def same_padding_total_strided(I, S, K, D):
    return _max(0, D*(K - 1) - I + S*((-((-(I)) // (S))) - 1) + 1)


def saved_index_bytes(B, A):
    return 8*A*B


def saved_mask_bytes(B, A):
    return A*B


def saved_tensor_bytes(B, E, Z_e):
    return B*E*Z_e


def softmax_macs_thop(A_in, C):
    return (A_in*(3*C - 1)) // (C)


def train_bytes(Z_x, Z_s, Z_p, Z_u, Z_g, Z_o):
    return Z_g + Z_o + Z_p + Z_s + Z_u + Z_x


def upsample_output_size(I, S_u):
    return I*S_u
