"""The contrastive losses against direct loop computations of their definitions (relbert 2.0.2's formulas)."""

import math

import pytest
import torch

from relbert_hf.training.losses import NCE_EPS, iloob_loss, nce_loss, relation_loss, triplet_loss


@pytest.fixture
def embeddings():
    generator = torch.Generator().manual_seed(0)
    positive = torch.randn(4, 8, generator=generator, dtype=torch.float64)
    negative = torch.randn(6, 8, generator=generator, dtype=torch.float64)
    return positive, negative


def cosine(x: torch.Tensor, y: torch.Tensor) -> float:
    return (x @ y / (x.norm() * y.norm())).item()


def loop_nce(positive, negative, temperature, info_loob=False) -> float:
    total = 0.0
    for i in range(len(positive)):
        negative_mass = sum(math.exp(cosine(positive[i], n) / temperature) for n in negative)
        for j in range(len(positive)):
            numerator = math.exp(cosine(positive[i], positive[j]) / temperature)
            denominator = negative_mass + NCE_EPS + (0 if info_loob else numerator)
            total += -math.log(numerator / denominator)
    return total


def loop_triplet(positive, negative, margin) -> float:
    total = 0.0
    for i in range(len(positive)):
        for j in range(len(positive)):
            if i == j:
                continue
            for k in range(len(negative)):
                distance_positive = (positive[i] - positive[j]).norm().item()
                distance_negative = (positive[i] - negative[k]).norm().item()
                total += max(0.0, distance_positive - distance_negative + margin)
    return total


@pytest.mark.parametrize("temperature", [0.05, 0.5, 1.0])
def test_nce_matches_loop(embeddings, temperature):
    positive, negative = embeddings
    expected = loop_nce(positive, negative, temperature)
    assert nce_loss(positive, negative, temperature).item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("temperature", [0.05, 1.0])
def test_iloob_matches_loop(embeddings, temperature):
    positive, negative = embeddings
    expected = loop_nce(positive, negative, temperature, info_loob=True)
    assert iloob_loss(positive, negative, temperature).item() == pytest.approx(expected, rel=1e-6)
    assert iloob_loss(positive, negative, temperature).item() != pytest.approx(
        nce_loss(positive, negative, temperature).item()
    )


@pytest.mark.parametrize("margin", [0.5, 3.0])
def test_triplet_matches_loop(embeddings, margin):
    positive, negative = embeddings
    expected = loop_triplet(positive, negative, margin)
    assert expected > 0
    assert triplet_loss(positive, negative, margin).item() == pytest.approx(expected, rel=1e-6)


def test_nce_matches_the_reference_vectorised_form(embeddings):
    """relbert 2.0.2's `loss_nce`: exp of cosine / temperature, eps in the denominator, summed over (i, j)."""
    positive, negative = (tensor.float() for tensor in embeddings)
    cos = torch.nn.CosineSimilarity(dim=2)
    logit_n = torch.exp(cos(positive.unsqueeze(1), negative.unsqueeze(0)) / 0.05)
    logit_p = torch.exp(cos(positive.unsqueeze(1), positive.unsqueeze(0)) / 0.05)
    reference = torch.sum(-torch.log(logit_p / (logit_n.sum(-1).unsqueeze(-1) + logit_p + 1e-5)))
    assert nce_loss(positive, negative, 0.05).item() == pytest.approx(reference.item(), rel=1e-5)


def test_nce_is_finite_where_plain_exp_overflows(embeddings):
    positive, negative = (tensor.float() for tensor in embeddings)
    loss = nce_loss(positive, negative, temperature=0.005)
    assert torch.isfinite(loss)
    assert torch.isinf(torch.exp(torch.tensor(1 / 0.005, dtype=torch.float32)))


def test_gradients_are_finite_with_duplicate_positives(embeddings):
    positive, negative = embeddings
    positive = torch.cat([positive, positive[:1]]).float().requires_grad_()
    for name in ("nce", "iloob", "triplet"):
        relation_loss(name, positive, negative.float()).backward()
        assert torch.isfinite(positive.grad).all(), name
        positive.grad = None


def test_losses_are_float32_for_bf16_inputs(embeddings):
    positive, negative = (tensor.to(torch.bfloat16) for tensor in embeddings)
    assert nce_loss(positive, negative).dtype == torch.float32
    assert triplet_loss(positive, negative).dtype == torch.float32


def test_relation_loss_dispatch_and_errors(embeddings):
    positive, negative = embeddings
    assert relation_loss("nce", positive, negative, temperature=0.1) == nce_loss(positive, negative, 0.1)
    assert relation_loss("triplet", positive, negative, margin=2.0) == triplet_loss(positive, negative, 2.0)
    with pytest.raises(ValueError, match="unknown loss_function 'mse'"):
        relation_loss("mse", positive, negative)
    with pytest.raises(ValueError, match="temperature must be positive"):
        nce_loss(positive, negative, temperature=0)
