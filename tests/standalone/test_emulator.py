"""The Cortex-M4 build (DSP instructions, inline assembly) is bit-exact too, under QEMU.

The host build compiles the portable C; these tests run the ARM build of the same generated
code on QEMU's mps2-an386 and compare with TFLite Micro element by element.
"""

from __future__ import annotations

import asyncio
import json
import shutil

import numpy as np
import pytest

from tests.standalone import guard, zoo
from tests.standalone.helpers import dw3_in_place, person_images, tflm_outputs, wide_convs
from tinyml_lsp.codegen.standalone.emit import generate
from tinyml_lsp.deploy.board_profile import profile_on_emulator, render_profile
from tinyml_lsp.deploy.board_run import run_on_emulator

pytestmark = [
    pytest.mark.emulator,
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None
                       or shutil.which("arm-none-eabi-gcc") is None,
                       reason="qemu-system-arm or arm-none-eabi-gcc is not installed"),
]


def _emulate(model, x, tmp_path, cflags=()):
    gen = generate(model)
    run = asyncio.run(run_on_emulator(gen, x, tmp_path, cflags=cflags))
    ref = tflm_outputs([model.read_bytes()], [x])[0]
    assert not isinstance(ref, str), ref
    assert np.array_equal(run.outputs, ref.reshape(len(x), -1))
    return run


def _zoo_on_board(cases, images: int, tmp_path, seeds=None, *, flash_budget=None,
                  flag_sets=((),)) -> list[tuple[dict, str]]:
    """Zoo cases on the board, bit-exact with TFLite Micro under each set of C flags; each
    case's info and generated C, for the caller to check which paths it took."""
    seeds = seeds or range(len(cases))
    inputs = [zoo.random_inputs(m, images, seed=s) for s, (_, m, _) in zip(seeds, cases,
                                                                        strict=True)]
    refs = tflm_outputs([m for _, m, _ in cases], inputs)
    taken = []
    for (name, model, info), x, ref in zip(cases, inputs, refs, strict=True):
        path = tmp_path / f"{name}.tflite"
        path.write_bytes(model)
        gen = generate(path, flash_budget=flash_budget)
        for flags in flag_sets:
            run = asyncio.run(run_on_emulator(gen, x, tmp_path / name / "-".join(flags),
                                              cflags=flags))
            assert np.array_equal(run.outputs, ref.reshape(len(x), -1)), (name, flags)
        taken.append((info, gen.source))
    return taken


def test_person_detect_on_the_emulated_m4(model_path, tmp_path):
    run = _emulate(model_path("person_detect"), person_images(), tmp_path)
    assert run.outputs.tolist() == [[-113, 113], [57, -57]]
    assert run.instructions[0] < 95_591_614  # TFLite Micro's reference kernels


def test_micro_speech_and_hello_world_on_the_emulated_m4(model_path, tmp_path):
    x = np.random.default_rng(3).integers(-128, 128, size=(4, 1, 1960), dtype=np.int8)
    run = _emulate(model_path("micro_speech_quantized"), x, tmp_path / "speech")
    assert run.instructions[0] < 9_310_269
    x = np.arange(-128, 128, 8, dtype=np.int8).reshape(32, 1, 1)
    run = _emulate(model_path("hello_world_int8"), x, tmp_path / "hello")
    assert run.instructions[0] < 5_260


def test_dsp_intrinsics_without_assembly(model_path, tmp_path):
    """-DTM_NO_ASM: the C (ACLE intrinsics) versions of the assembly loops, same bytes."""
    _emulate(model_path("person_detect"), person_images(), tmp_path, cflags=("-DTM_NO_ASM",))
    for kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        for seed in range(3):
            name, model, info = zoo.case(kind, seed)
            if info.get("float_io"):
                continue
            path = tmp_path / f"{name}.tflite"
            path.write_bytes(model)
            _emulate(path, zoo.random_inputs(model, 4, seed), tmp_path / name,
                     cflags=("-DTM_NO_ASM",))


@pytest.mark.parametrize("kind", ["CONV_2D", "DEPTHWISE_CONV_2D", "DEPTHWISE_3X3",
                                  "DEPTHWISE_3X3_POOLED", "DEPTHWISE_3X3_STRIDED",
                                  "FULLY_CONNECTED", "CHAIN",
                                  "AVERAGE_POOL_2D", "SOFTMAX", "ADD", "MEAN"])
def test_zoo_on_the_emulated_m4(kind, tmp_path):
    """Random shapes reach every path of the DSP kernels: channel and depth remainders,
    gathered and in-place windows, the generic fallbacks, the 3×3 depthwise kernel's input
    copied with its border into scratch (where the arena has room: after a pool) and its
    bands fitted below the input still to read (in place, stride 2), a row alone where no
    band fits."""
    cases = [c for c in (zoo.case(kind, s) for s in range(6)) if not c[2].get("float_io")][:4]
    sources = [src for _, src in _zoo_on_board(cases, 6, tmp_path)]
    if kind == "DEPTHWISE_3X3_POOLED":
        assert sum(".padded = (ARENA" in src for src in sources) >= 3
    if kind == "DEPTHWISE_3X3_STRIDED":
        alone = sum(dw3_in_place(src)[0] for src in sources)
        assert alone >= 2, alone


@pytest.mark.parametrize("kind", ["CONV_3X3X3", "CONV_1X1X8"])
def test_first_layer_kernels_on_the_emulated_m4(kind, tmp_path):
    """tm_conv_k9 (3×3 kernels over 3 channels) and tm_conv_k8 (1×1 over 8), int16 weights,
    on the board, in assembly and in C: borders through k9's patch, strides 1 and 2 (3 goes
    elsewhere), lone pixels, two images."""
    cases = [zoo.case(kind, s) for s in range(8)]
    taken = sum(".brq = op" in src for _, src in _zoo_on_board(
        cases, 3, tmp_path, flash_budget=2.1, flag_sets=((), ("-DTM_NO_ASM",))))
    assert taken >= 4, taken


def test_three_pixel_conv_on_the_emulated_m4(tmp_path):
    """tm_mac_3x2_rq (1×1 convs, int8 weights, three pixels at a time): every entry of its
    loop unrolled eight times (input channels by 4, every remainder of groups by 8), a pair
    or a lone pixel left over, two images."""
    seeds = (0, 1, 2, 19, 4, 5, 6, 7)  # 19: the first with 16 or 48 channels and room for it
    cases = [zoo.case("CONV_1X1_POOLED", s) for s in seeds]
    entries = set()
    for (name, _, _), (info, src) in zip(cases, _zoo_on_board(cases, 3, tmp_path, seeds),
                                         strict=True):
        assert ".pix3 = 1" in src, name  # the three-pixel kernel takes it
        entries.add(info["in_c"] // 4 % 8)
    assert entries == set(range(8))


@pytest.mark.parametrize(("name", "kernel"), [("kws_dscnn", "tm_conv"),
                                            ("ad_autoencoder", "tm_conv_lean")])
def test_int16_weights_on_the_emulated_m4(twins, name, kernel, tmp_path):
    """`--weights-budget 2.1` on the board: bit-exact with the assembly and with its C form,
    and fewer instructions than the default build (counts are exact under -icount)."""
    path = twins[name]
    x = np.concatenate([guard.guard_input(name, generate(path).inputs[0].shape),
                        zoo.random_inputs(path.read_bytes(), 2, seed=5)])
    ref = tflm_outputs([path.read_bytes()], [x])[0].reshape(len(x), -1)
    wide = generate(path, flash_budget=2.1)
    assert wide_convs(path, 2.1).get(kernel, 0) >= 4  # KWS's 1×1 convs, AD's dense layers
    fast = asyncio.run(run_on_emulator(wide, x, tmp_path / "asm"))
    plain = asyncio.run(run_on_emulator(wide, x[1:], tmp_path / "c", cflags=("-DTM_NO_ASM",)))
    assert np.array_equal(fast.outputs, ref) and np.array_equal(plain.outputs, ref[1:])
    assert fast.instructions[0] < guard.recorded()[name] * 0.95


@pytest.mark.parametrize("name", ["ic_resnet8", "kws_dscnn"])
def test_twins_without_assembly(twins, name, tmp_path):
    """The DSP kernels' C forms (-DTM_NO_ASM) on the paths the twins take: ResNet-8's lean
    conv with int16 weights (the flash budget spent), KWS's 3×3 depthwise convs."""
    if name == "ic_resnet8":
        assert ".w16 = op" in generate(twins[name]).source
    _emulate(twins[name], zoo.random_inputs(twins[name].read_bytes(), 2, seed=3), tmp_path,
             cflags=("-DTM_NO_ASM",))


def test_shared_models_and_twins_bit_exact_within_their_recorded_instructions(tmp_path):
    """The regression guard: instructions per inference of each shared model and benchmark
    twin (exact under -icount) at most 1 % above tests/standalone/instructions.json, and the
    outputs equal to TFLite Micro's on the guard input and two random ones."""
    record = guard.recorded()
    models = guard.guarded_models()
    assert set(record) == set(models)
    cases = []
    for name, path in models.items():
        gen = generate(path)
        shape = gen.inputs[0].shape
        x = np.concatenate([guard.guard_input(name, shape),
                            zoo.random_inputs(path.read_bytes(), 2, seed=7)])
        cases.append((name, path, gen, x))
    refs = tflm_outputs([p.read_bytes() for _, p, _, _ in cases], [x for *_, x in cases])
    rising = {}
    for (name, _, gen, x), ref in zip(cases, refs, strict=True):
        run = asyncio.run(run_on_emulator(gen, x, tmp_path / name))
        assert np.array_equal(run.outputs, ref.reshape(len(x), -1)), name
        if run.instructions[0] > record[name] * (1 + guard.TOLERANCE) + guard.TICK:
            rising[name] = (run.instructions[0], record[name])
    assert not rising, f"instructions rose more than 1 % (measured, recorded): {rising}"


def test_profile_reports_every_layer_of_the_kws_twin(twins, tmp_path):
    """Instructions per layer from the profiling firmware: one figure per kernel call, adding
    up to the whole inference, next to MACs that match the published DS-CNN layer shapes."""
    profile = asyncio.run(profile_on_emulator(twins["kws_dscnn"], tmp_path))
    assert [c.op for c in profile.layers] == (
        ["CONV_2D"] + ["DEPTHWISE_CONV_2D", "CONV_2D"] * 4
        + ["AVERAGE_POOL_2D", "FULLY_CONNECTED", "SOFTMAX"])
    # 10×4 conv to 25×5×64, four 3×3 depthwise + 1×1 blocks of 64, a 64×12 dense layer
    assert profile.macs == 25 * 5 * 64 * 40 + 4 * (25 * 5 * 64 * 9 + 25 * 5 * 64 * 64) + 64 * 12
    assert all(c.instructions > c.floor for c in profile.layers if c.macs)
    per_layer = sum(c.instructions for c in profile.layers)
    # each figure is exact to one 40-instruction tick; the copies of input and output remain
    assert per_layer <= profile.instructions <= per_layer + 40 * len(profile.layers) + 2_000
    top = profile.top(3)
    assert top[0].excess >= top[1].excess >= top[2].excess
    table = render_profile(profile, top=3).splitlines()
    assert len(table) == 5 and table[1].split()[:2] == [str(top[0].step), top[0].op]


def test_analyze_on_board_puts_instructions_next_to_each_layer(model_path):
    """`tinyml analyze --on-board`: every kernel's measured instructions land on its model op,
    and they add up to (nearly) the whole inference."""
    from tests.unit.test_cli import tinyml

    proc = tinyml("analyze", model_path("micro_speech_quantized"), "--on-board", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    layers = {layer["op"]: layer for layer in report["layers"]}
    for op in ("DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
        assert layers[op]["instructions"] > layers[op]["macs"] // 2 > 0
    assert layers["SOFTMAX"]["instructions"] > 0
    total = int(next(note for note in report["notes"] if "instructions per inference" in note)
                .split(": ")[1].split(" instructions")[0].replace(",", ""))
    assert sum(layer["instructions"] or 0 for layer in report["layers"]) <= total
