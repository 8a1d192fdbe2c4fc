"""Contrastive losses of RelBERT fine-tuning, for the sampled pairs of ONE relation type.

Every loss takes the relation embeddings of the relation type's positives, shape `(P, hidden)`, and of its negatives,
shape `(N, hidden)`, and returns a scalar summed over its terms, as the reference library (relbert 2.0.2) does:

- `nce` (InfoNCE, Ushio et al. 2021): with `s_xy = cos(x, y) / temperature`, for every ordered pair `(i, j)` of
  positives (`i = j` included) the term `-log(exp(s_ij) / (exp(s_ij) + sum_k exp(s_ik) + eps))`, `k` over the
  negatives.
- `iloob` (InfoLOOB): the same without `exp(s_ij)` in the denominator.
- `triplet`: for every ordered pair `(i, j)`, `i != j`, of positives and every negative `k`, the margin loss
  `max(0, |p_i - p_j| - |p_i - n_k| + margin)` on Euclidean distances of the raw embeddings.

`eps = 1e-5` in the denominators is the reference's. The log-sum-exp form used here is the reference's formula
computed without overflow (the reference exponentiates `s`, which overflows float32 for `temperature < 0.012`).
Losses are computed in float32 whatever the embeddings' dtype.
"""

import math

import torch
import torch.nn.functional as F


#: The constant the reference library adds to the NCE/InfoLOOB denominators.
NCE_EPS = 1e-5


def _scaled_cosines(positive: torch.Tensor, negative: torch.Tensor, temperature: float):
    """(P, P) and (P, N) cosine similarities divided by the temperature, in float32."""
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    positive = F.normalize(positive.float(), dim=-1)
    negative = F.normalize(negative.float(), dim=-1)
    return positive @ positive.T / temperature, positive @ negative.T / temperature


def _log_negative_mass(positive_negative: torch.Tensor, eps: float) -> torch.Tensor:
    """(P, 1): `log(sum_k exp(s_ik) + eps)` for each positive `i`."""
    log_eps = torch.full_like(positive_negative[:, :1], math.log(eps))
    return torch.logsumexp(torch.cat([positive_negative, log_eps], dim=1), dim=1, keepdim=True)


def nce_loss(
    positive: torch.Tensor, negative: torch.Tensor, temperature: float = 0.05, eps: float = NCE_EPS
) -> torch.Tensor:
    """InfoNCE of one relation type: `positive` (P, hidden), `negative` (N, hidden) -> scalar (sum of P * P terms)."""
    positive_positive, positive_negative = _scaled_cosines(positive, negative, temperature)
    log_denominator = torch.logaddexp(positive_positive, _log_negative_mass(positive_negative, eps))
    return (log_denominator - positive_positive).sum()


def iloob_loss(
    positive: torch.Tensor, negative: torch.Tensor, temperature: float = 0.05, eps: float = NCE_EPS
) -> torch.Tensor:
    """InfoLOOB of one relation type: `positive` (P, hidden), `negative` (N, hidden) -> scalar (sum of P * P terms)."""
    positive_positive, positive_negative = _scaled_cosines(positive, negative, temperature)
    return (_log_negative_mass(positive_negative, eps) - positive_positive).sum()


def triplet_loss(positive: torch.Tensor, negative: torch.Tensor, margin: float = 1.0) -> torch.Tensor:
    """Margin loss of one relation type: `positive` (P, hidden), `negative` (N, hidden) -> scalar (sum over
    P * (P - 1) * N triplets)."""
    positive, negative = positive.float(), negative.float()
    # vector_norm has a zero (not NaN) gradient at distance 0, e.g. for the excluded i = j terms
    positive_distance = torch.linalg.vector_norm(positive.unsqueeze(1) - positive.unsqueeze(0), dim=-1)  # (P, P)
    negative_distance = torch.linalg.vector_norm(positive.unsqueeze(1) - negative.unsqueeze(0), dim=-1)  # (P, N)
    terms = F.relu(positive_distance.unsqueeze(2) - negative_distance.unsqueeze(1) + margin)  # (P, P, N)
    off_diagonal = ~torch.eye(len(positive), dtype=torch.bool, device=positive.device)
    return terms[off_diagonal].sum()


LOSS_FUNCTIONS = ("nce", "iloob", "triplet")


def relation_loss(
    loss_function: str,
    positive: torch.Tensor,
    negative: torch.Tensor,
    temperature: float = 0.05,
    margin: float = 1.0,
) -> torch.Tensor:
    """The loss named `loss_function` (one of `LOSS_FUNCTIONS`) of one relation type (scalar)."""
    if loss_function == "nce":
        return nce_loss(positive, negative, temperature)
    if loss_function == "iloob":
        return iloob_loss(positive, negative, temperature)
    if loss_function == "triplet":
        return triplet_loss(positive, negative, margin)
    raise ValueError(f"unknown loss_function {loss_function!r}; expected one of {', '.join(LOSS_FUNCTIONS)}")


__all__ = ["LOSS_FUNCTIONS", "NCE_EPS", "iloob_loss", "nce_loss", "relation_loss", "triplet_loss"]
