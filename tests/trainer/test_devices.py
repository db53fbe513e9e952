"""trainer.devices: the device and precision every command runs with, chosen by capability."""
from __future__ import annotations

import warnings

import pytest
import torch

from common.errors import TrainerError
from trainer import devices
from trainer.devices import autocast, make_grad_scaler, pick_device, resolve_precision


def test_pick_device_cpu_and_auto_without_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(devices, "_mps_available", lambda: False)
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device("auto") == torch.device("cpu")


def test_pick_device_missing_gpu_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(devices, "_mps_available", lambda: False)
    with pytest.raises(TrainerError, match="--device cuda: no CUDA GPU"):
        pick_device("cuda")
    with pytest.raises(TrainerError, match="--device mps"):
        pick_device("mps")
    with pytest.raises(TrainerError, match="unknown device 'tpu'"):
        pick_device("tpu")


@pytest.mark.parametrize("native_bf16, expected", [(True, "bf16"), (False, "fp32")])
def test_auto_precision_on_cpu_follows_native_bf16(monkeypatch, native_bf16, expected):
    monkeypatch.setattr(devices, "cpu_has_native_bf16", lambda: native_bf16)
    assert resolve_precision(torch.device("cpu"), "auto") == expected


def test_explicit_precision_on_cpu():
    cpu = torch.device("cpu")
    assert resolve_precision(cpu, "fp32") == "fp32"
    assert resolve_precision(cpu, "bf16") == "bf16"
    with pytest.raises(TrainerError, match="fp16 is for GPUs"):
        resolve_precision(cpu, "fp16")
    with pytest.raises(TrainerError, match="unknown precision 'fp8'"):
        resolve_precision(cpu, "fp8")


@pytest.mark.parametrize("bf16_ok, expected", [(True, "bf16"), (False, "fp16")])
def test_auto_precision_on_cuda_is_bf16_else_fp16(monkeypatch, bf16_ok, expected):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: bf16_ok)
    assert resolve_precision(torch.device("cuda"), "auto") == expected


def test_bf16_on_a_gpu_without_it_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: False)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Tesla T4")
    with pytest.raises(TrainerError, match="Tesla T4 has no native bf16"):
        resolve_precision(torch.device("cuda"), "bf16")


def test_autocast_is_a_no_op_for_fp32_and_casts_for_bf16():
    a, b = torch.randn(4, 4), torch.randn(4, 4)
    with autocast(torch.device("cpu"), "fp32"):
        assert not torch.is_autocast_enabled("cpu")
        assert (a @ b).dtype == torch.float32
    with autocast(torch.device("cpu"), "bf16"):
        assert (a @ b).dtype == torch.bfloat16


def test_grad_scaler_only_for_fp16_on_cuda():
    cpu = torch.device("cpu")
    assert all(make_grad_scaler(cpu, p) is None for p in ("fp32", "bf16"))
    assert make_grad_scaler(torch.device("cuda"), "bf16") is None
    with warnings.catch_warnings():  # without a GPU the scaler warns that it disables itself
        warnings.simplefilter("ignore")
        scaler = make_grad_scaler(torch.device("cuda"), "fp16")
    assert isinstance(scaler, torch.amp.GradScaler)


def test_sampling_precision_adds_int8_on_the_cpu_only(monkeypatch):
    cpu = torch.device("cpu")
    monkeypatch.setattr(devices, "int8_available", lambda: True)
    assert resolve_precision(cpu, "auto", sampling=True) == "int8"
    assert resolve_precision(cpu, "int8", sampling=True) == "int8"
    with pytest.raises(TrainerError, match="int8"):
        resolve_precision(cpu, "int8")  # training has no int8
    with pytest.raises(TrainerError, match="CPU only"):
        resolve_precision(torch.device("cuda"), "int8", sampling=True)
