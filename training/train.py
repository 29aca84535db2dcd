"""The training job, top to bottom: data, model, optimiser, epochs, selection, report.

Runs on one process or under ``torchrun`` (DDP, gloo backend): each process takes its share
of every epoch's batches, gradients are averaged, and process 0 writes all files.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm

from tagger import Tagger
from tagger.atomic import clean_staging
from tagger.casing import case_priors
from tagger.config import TaskSpec
from tagger.context import document_ids
from tagger.data import Sentence
from tagger.features import Featurizer
from tagger.model import SequenceTagger
from training import distributed
from training.augment import (
    augment_casing,
    kept_candidates,
    recased_corpus,
    split_starts,
    start_candidates,
    start_rule,
)
from training.batches import Example, make_batches, make_examples, pad_tags
from training.checkpoint import load_checkpoint, save_checkpoint
from training.config import ConfigError, TrainConfig
from training.corpus import (
    build_tasks,
    build_vocabularies,
    check_known_labels,
    data_fingerprints,
    encode_tags,
    load_splits,
)
from training.evaluate import evaluate_tagger
from training.metrics import headline
from training.open_names import load_open_names, outside_capitalised
from training.report import append_jsonl, rewrite_metrics_log, write_report


def train(config: TrainConfig, resume: bool = False) -> dict[str, Any]:
    """Train, select on validation, evaluate the best model; return the final metrics."""
    rank, world = distributed.setup()
    if config.threads:
        torch.set_num_threads(config.threads)
    random.seed(config.seed)
    torch.manual_seed(config.seed)
    run_dir = Path(config.output_dir)
    model_dir, checkpoint_path = run_dir / "model", run_dir / "checkpoint.safetensors"

    # Data, vocabularies and tasks.
    splits = load_splits(config.data)
    if config.data.max_train_sentences:
        splits["train"] = splits["train"][: config.data.max_train_sentences]
    specs = [
        spec.model_copy(update={"decoder": config.decoders.get(spec.name, spec.decoder)})
        for spec in build_tasks(splits, config.data)
    ]
    for split in ("valid", "test"):
        for spec in specs:
            check_known_labels(splits.get(split, []), spec, str(getattr(config.data, split)))
    select_on = config.select_on or specs[0].name
    words, chars = build_vocabularies(splits["train"], config.model.lowercase_words)
    meta = {
        "name": config.name,
        "version": config.version,
        "columns": config.data.columns,
        "training_data": data_fingerprints(config.data) if config.data.hf is None else [],
        "training_config": config.model_dump(mode="json"),
        "inference": {"int8": config.int8_inference},
    }
    priors = case_priors(s.tokens for s in splits["train"]) if config.model.case_prior_dim else None
    tagger = Tagger.create(config.model, specs, words, chars, meta, priors)
    network = tagger.network
    init_unknown_words(network, tagger.featurizer)
    train_set = splits["train"] + open_name_sentences(config, specs, splits["train"])
    gold = encode_tags(train_set, specs)
    doc_ids = document_ids([s.doc_start for s in train_set])
    starts = config.augment_casing.sentence_starts
    outside, inside = start_rule(config.augment_casing, [s.name for s in specs if s.is_span])
    candidates = [start_candidates(s, outside, inside) for s in train_set] if starts else []

    optimizer = make_optimizer(network, config)
    ema, selected = averaged(tagger, config.ema_decay)
    modules = {"model": network, **({"ema": ema} if ema is not None else {})}
    state: dict[str, Any] = {"epoch": 0, "best": -math.inf, "best_epoch": 0, "history": []}
    if resume:
        if not checkpoint_path.exists():
            raise ConfigError(
                f"--resume: no checkpoint in {run_dir} (nothing to resume; run without --resume "
                "to start afresh)"
            )
        state = load_checkpoint(checkpoint_path, modules, optimizer)
    clean_staging(model_dir)  # leftovers of a save that a kill interrupted
    model = distributed.wrap(network, world)
    if rank == 0:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.json").write_text(json.dumps(config.model_dump(mode="json"), indent=2))
        rewrite_metrics_log(run_dir / "metrics.jsonl", state["history"])

    for epoch in range(state["epoch"], config.epochs):
        if epoch - state["best_epoch"] >= config.patience and state["history"]:
            break
        set_learning_rate(optimizer, config, epoch)
        tokens = augment_casing(
            [s.tokens for s in train_set], doc_ids, config.augment_casing, config.seed + epoch
        )
        epoch_gold, epoch_docs = gold, doc_ids
        if starts:
            kept = kept_candidates(tokens, train_set, candidates)  # none where re-cased
            tokens, epoch_gold, epoch_docs = split_starts(
                tokens, gold, doc_ids, kept, starts, config.seed + epoch
            )
        examples = make_examples(
            tokens, epoch_gold, epoch_docs, config.model.context_tokens, config.seed + epoch
        )
        batches = make_batches(examples, config.optim.batch_size, config.seed + epoch)
        batches = batches[: len(batches) - len(batches) % world]  # equal share per process
        stats = train_epoch(
            model,
            network,
            ema,
            tagger.featurizer,
            optimizer,
            batches[rank::world],
            config,
            epoch,
            rank,
        )
        variants = (
            evaluate_variants(selected, splits["valid"], config.select_casings, config)
            if "valid" in splits
            else {}
        )
        valid = variants.get("as_written") or next(iter(variants.values()), {})
        scores = {name: headline(metrics[select_on]) for name, metrics in variants.items()}
        score = sum(scores.values()) / len(scores) if scores else -stats["loss"]
        record = {
            "epoch": epoch + 1,
            **stats,
            "lr": optimizer.param_groups[0]["lr"],
            "valid": valid,
            **({"valid_casings": scores} if len(scores) > 1 else {}),
            "selected_score": score,
        }
        state["history"].append(record)
        if score > state["best"]:
            state["best"], state["best_epoch"] = score, epoch + 1
            if rank == 0:
                selected.save(model_dir, {"valid": valid, "epoch": epoch + 1})
        state["epoch"] = epoch + 1
        if rank == 0:
            append_jsonl(run_dir / "metrics.jsonl", record)
            save_checkpoint(checkpoint_path, modules, optimizer, state)
            tqdm.write(
                f"epoch {epoch + 1}: loss {stats['loss']:.3f} valid {select_on} "
                f"{score:.2f} (best {state['best']:.2f} @ {state['best_epoch']})"
            )
        distributed.barrier(world)

    results = finish(run_dir, model_dir, splits, state, config, rank)
    distributed.record_parameters(run_dir, network, rank)
    distributed.teardown(world)
    return results


def open_name_sentences(
    config: TrainConfig, specs: Sequence[TaskSpec], labelled: Sequence[Sentence]
) -> list[Sentence]:
    """The configured treebank sentences, partly labelled (ordinary words O, names of a kind
    left open); ``labelled``: the training data, whose conventions they follow."""
    source = config.data.open_names
    if source is None:
        return []
    if plain := [spec.name for spec in specs if not spec.is_span]:
        raise ConfigError(
            f"data.open_names labels span tasks only, and this model also learns {plain}"
        )
    names = [spec.name for spec in specs]
    not_names = outside_capitalised(labelled, names)  # "Monday", "Mr": capitals, yet no name
    return load_open_names(source.path, names, not_names, source.max_sentences, config.seed)


def evaluate_variants(
    tagger: Tagger, sentences: list[Sentence], variants: Sequence[str], config: TrainConfig
) -> dict[str, dict[str, Any]]:
    """Metrics of each casing variant of a split (``as_written``: the split itself)."""
    return {
        name: evaluate_tagger(
            tagger, recased_corpus(sentences, name), batch_size=config.eval_batch_size
        )
        for name in dict.fromkeys(variants)
    }


def averaged(tagger: Tagger, decay: float | None) -> tuple[AveragedModel | None, Tagger]:
    """An exponential moving average of the weights and the tagger that is evaluated and shipped.

    Averaging the last few thousand steps' weights smooths out SGD noise (Polyak averaging);
    buffers (GloVe table, CRF constraints) are constants and are copied, not averaged.
    """
    if decay is None:
        return None, tagger
    ema = AveragedModel(tagger.network, multi_avg_fn=get_ema_multi_avg_fn(decay))
    network = cast(SequenceTagger, ema.module)
    return ema, Tagger(network, tagger.words, tagger.chars, tagger.meta, None, tagger.case_prior)


def init_unknown_words(network: SequenceTagger, featurizer: Featurizer) -> None:
    """Words without a GloVe vector start from small random vectors; the rest from GloVe alone."""
    weight = network.embedder.words.weight  # [V, D]
    with torch.no_grad():
        for index, key in enumerate(featurizer.words.itos[2:], start=2):
            if key.lower() not in featurizer.glove_index:
                weight[index].normal_(0.0, 0.3)


def make_optimizer(network: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """The configured optimiser over the trainable parameters."""
    optim = config.optim
    params = [p for p in network.parameters() if p.requires_grad]
    if optim.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=optim.lr, momentum=optim.momentum, weight_decay=optim.weight_decay
        )
    cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "nadam": torch.optim.NAdam}
    return cls[optim.optimizer](params, lr=optim.lr, weight_decay=optim.weight_decay)


def set_learning_rate(optimizer: torch.optim.Optimizer, config: TrainConfig, epoch: int) -> None:
    """Learning rate of an epoch under the configured schedule."""
    optim = config.optim
    if optim.schedule == "inverse":
        lr = optim.lr / (1 + optim.decay * epoch)
    elif optim.schedule == "cosine":
        lr = optim.lr * 0.5 * (1 + math.cos(math.pi * epoch / config.epochs))
    else:
        lr = optim.lr
    for group in optimizer.param_groups:
        group["lr"] = lr


def train_epoch(
    model: torch.nn.Module,
    network: torch.nn.Module,
    ema: AveragedModel | None,
    featurizer: Featurizer,
    optimizer: torch.optim.Optimizer,
    batches: list[list[Example]],
    config: TrainConfig,
    epoch: int,
    rank: int,
) -> dict[str, float]:
    """One pass over this process' batches; returns mean loss and words per second."""
    model.train()
    total_loss, total_words, started = 0.0, 0, time.perf_counter()
    bar = tqdm(batches, desc=f"epoch {epoch + 1}", unit="batch", disable=rank != 0, leave=False)
    for batch in bar:
        features = featurizer.batch([tokens for tokens, _, _ in batch])
        gold = {
            task: pad_tags([tags[task] for _, tags, _ in batch], features.mask.size(1))
            for task in batch[0][1]
        }
        loss = model(features, gold, config.task_weights, sum(n for _, _, n in batch))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(network.parameters(), config.optim.clip)
        optimizer.step()
        if ema is not None:
            ema.update_parameters(network)
        total_loss += loss.item()
        total_words += int(features.mask.sum())
        speed = total_words / (time.perf_counter() - started)
        bar.set_postfix(loss=f"{total_loss / (bar.n + 1):.3f}", words_s=f"{speed:,.0f}")
    model.eval()
    seconds = time.perf_counter() - started
    return {
        "loss": total_loss / max(len(batches), 1),
        "seconds": seconds,
        "words_per_second": total_words / max(seconds, 1e-9),
    }


def finish(
    run_dir: Path,
    model_dir: Path,
    splits: dict,
    state: dict[str, Any],
    config: TrainConfig,
    rank: int,
) -> dict[str, Any]:
    """Evaluate the selected model on validation and test; write its metrics and the report."""
    if rank != 0:
        return {}
    best = Tagger.load(model_dir)  # as users will load it (int8 if the config asks)
    results: dict[str, Any] = {"epoch": state["best_epoch"], "epochs_run": state["epoch"]}
    for split in ("valid", "test"):
        if split in splits:
            results[split] = evaluate_tagger(best, splits[split], batch_size=config.eval_batch_size)
            recased = [v for v in config.report_casings if v != "as_written"]
            if recased:
                variants = evaluate_variants(best, splits[split], recased, config)
                results[f"{split}_casings"] = {
                    name: {task: headline(m) for task, m in metrics.items()}
                    for name, metrics in variants.items()
                }
    results["train_seconds"] = sum(r["seconds"] for r in state["history"])
    Tagger.load(model_dir, int8=False).save(model_dir, results)
    write_report(run_dir, state["history"], results)
    return results
