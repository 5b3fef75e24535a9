#!/usr/bin/env python3
"""Prints a model-level qn function for the forward pass of a Qwen3-Next
model with the 80B-A3B dimensions (spec section 7) and any layer count:
weights as arguments named like GGUF tensors (qn.weight), conv/delta states
and KV caches as qn.state arguments and results. Input for the
qn-assign-backends scale test; the frontend's builder is the real source of
such IR."""
import argparse

D, V, HQ, HKV, DH = 2048, 151936, 16, 2, 256
HK, HV, DK, DV, KC = 16, 32, 128, 128, 4
E, K, F, FS = 512, 10, 512, 512
CK, CV = HK * DK, HV * DV
CC = 2 * CK + CV
Q4 = "!qn.qweight<q4_k, {}>"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=48)
    layers = ap.parse_args().layers

    args, results, ret, body = [], [], [], []
    n = [0]

    def arg(ty, attr=None):
        name = f"%a{len(args)}"
        args.append(f"{name}: {ty}" + (f" {{{attr}}}" if attr else ""))
        return name

    def w(name, ty):
        return arg(ty, f'qn.weight = "{name}"')

    def st(name, ty):
        return arg(ty, f'qn.state = "{name}"')

    def v():
        n[0] += 1
        return f"%v{n[0]}"

    def op(text):
        r = v()
        body.append(f"  {r} = {text}")
        return r

    act = lambda c: f"tensor<?x{c}xf32>"
    ids = arg("tensor<?xi32>")
    pos = arg("tensor<?xi32>")
    h = op(f"qn.embed {w('token_embd.weight', Q4.format(f'{V}x{D}'))}[{ids}] : "
           f"{Q4.format(f'{V}x{D}')}, tensor<?xi32>")
    for il in range(layers):
        p = f"blk.{il}."
        x = op(f"qn.rms_norm {h}, {w(p + 'attn_norm.weight', f'tensor<{D}xf32>')} : "
               f"{act(D)}, tensor<{D}xf32>")
        if (il + 1) % 4 != 0:
            u = op(f"qn.matmul {x}, {w(p + 'attn_qkv.weight', Q4.format(f'{CC}x{D}'))} : "
                   f"{act(D)}, {Q4.format(f'{CC}x{D}')}")
            z = op(f"qn.matmul {x}, {w(p + 'attn_gate.weight', Q4.format(f'{CV}x{D}'))} : "
                   f"{act(D)}, {Q4.format(f'{CV}x{D}')}")
            ba = op(f"qn.matmul {x}, {w(p + 'ssm_ba.weight', f'tensor<{2*HV}x{D}xf32>')} : "
                    f"{act(D)}, tensor<{2*HV}x{D}xf32>")
            cs = st(p + "conv_state", f"tensor<{CC}x{KC-1}xf32>")
            y, cs1 = v(), v()
            body.append(
                f"  {y}, {cs1} = qn.conv1d_causal {u}, "
                f"{w(p + 'ssm_conv1d.weight', f'tensor<{CC}x{KC}xf32>')}, {cs} : "
                f"({act(CC)}, tensor<{CC}x{KC}xf32>, tensor<{CC}x{KC-1}xf32>) -> "
                f"({act(CC)}, tensor<{CC}x{KC-1}xf32>)")
            results.append(f'tensor<{CC}x{KC-1}xf32> {{qn.state = "{p}conv_state"}}')
            ret.append((cs1, f"tensor<{CC}x{KC-1}xf32>"))
            ys = op(f"qn.silu {y} : {act(CC)}")

            def part(off, size, heads, hd):
                s = op(f"qn.slice {ys} [0, {off}] [-1, {size}] [1, 1] : {act(CC)}")
                return op(f"qn.reshape {s} : {act(size)} -> tensor<?x{heads}x{hd}xf32>")
            q = part(0, CK, HK, DK)
            k = part(CK, CK, HK, DK)
            vv = part(2 * CK, CV, HV, DV)
            b0 = op(f"qn.slice {ba} [0, 0] [-1, {HV}] [1, 1] : {act(2*HV)}")
            a0 = op(f"qn.slice {ba} [0, {HV}] [-1, {HV}] [1, 1] : {act(2*HV)}")
            beta = op(f"qn.sigmoid {b0} : {act(HV)}")
            a1 = op(f"qn.add {a0}, {w(p + 'ssm_dt.bias', f'tensor<{HV}xf32>')} : "
                    f"{act(HV)}, tensor<{HV}xf32>")
            a2 = op(f"qn.softplus {a1} : {act(HV)}")
            g = op(f"qn.mul {a2}, {w(p + 'ssm_a', f'tensor<{HV}xf32>')} : "
                   f"{act(HV)}, tensor<{HV}xf32>")
            s = st(p + "ssm_state", f"tensor<{HV}x{DK}x{DV}xf32>")
            o, s1 = v(), v()
            qt, vt = f"tensor<?x{HK}x{DK}xf32>", f"tensor<?x{HV}x{DV}xf32>"
            body.append(
                f"  {o}, {s1} = qn.gated_delta_net {q}, {k}, {vv}, {g}, {beta}, {s} : "
                f"({qt}, {qt}, {vt}, {act(HV)}, {act(HV)}, tensor<{HV}x{DK}x{DV}xf32>) -> "
                f"({vt}, tensor<{HV}x{DK}x{DV}xf32>)")
            results.append(f'tensor<{HV}x{DK}x{DV}xf32> {{qn.state = "{p}ssm_state"}}')
            ret.append((s1, f"tensor<{HV}x{DK}x{DV}xf32>"))
            on = op(f"qn.rms_norm {o}, {w(p + 'ssm_norm.weight', f'tensor<{DV}xf32>')} : "
                    f"{vt}, tensor<{DV}xf32>")
            zr = op(f"qn.reshape {z} : {act(CV)} -> {vt}")
            zs = op(f"qn.silu {zr} : {vt}")
            gated = op(f"qn.mul {on}, {zs} : {vt}, {vt}")
            flat = op(f"qn.reshape {gated} : {vt} -> {act(CV)}")
            m = op(f"qn.matmul {flat}, {w(p + 'ssm_out.weight', Q4.format(f'{D}x{CV}'))} : "
                   f"{act(CV)}, {Q4.format(f'{D}x{CV}')}")
        else:
            qg = op(f"qn.matmul {x}, {w(p + 'attn_q.weight', Q4.format(f'{2*HQ*DH}x{D}'))} : "
                    f"{act(D)}, {Q4.format(f'{2*HQ*DH}x{D}')}")
            kk = op(f"qn.matmul {x}, {w(p + 'attn_k.weight', Q4.format(f'{HKV*DH}x{D}'))} : "
                    f"{act(D)}, {Q4.format(f'{HKV*DH}x{D}')}")
            vv = op(f"qn.matmul {x}, {w(p + 'attn_v.weight', Q4.format(f'{HKV*DH}x{D}'))} : "
                    f"{act(D)}, {Q4.format(f'{HKV*DH}x{D}')}")
            cache = f"tensor<?x{HKV}x{DH}xf16>"
            kc = st(p + "cache_k", cache)
            vc = st(p + "cache_v", cache)
            qn_ = w(p + "attn_q_norm.weight", f"tensor<{DH}xf32>")
            kn_ = w(p + "attn_k_norm.weight", f"tensor<{DH}xf32>")
            o, kc1, vc1 = v(), v(), v()
            body.append(
                f"  {o}, {kc1}, {vc1} = qn.gated_attention {qg}, {kk}, {vv}, {qn_}, {kn_}, "
                f"{pos}, {kc}, {vc} heads({HQ}, {HKV}) head_dim {DH} rope(64, 1.0e+07) : "
                f"({act(2*HQ*DH)}, {act(HKV*DH)}, {act(HKV*DH)}, tensor<{DH}xf32>, "
                f"tensor<{DH}xf32>, tensor<?xi32>, {cache}, {cache}) -> "
                f"({act(HQ*DH)}, {cache}, {cache})")
            for name, val in (("cache_k", kc1), ("cache_v", vc1)):
                results.append(f'{cache} {{qn.state = "{p}{name}"}}')
                ret.append((val, cache))
            m = op(f"qn.matmul {o}, {w(p + 'attn_output.weight', Q4.format(f'{D}x{HQ*DH}'))} : "
                   f"{act(HQ*DH)}, {Q4.format(f'{D}x{HQ*DH}')}")
        h1 = op(f"qn.add {h}, {m} : {act(D)}, {act(D)}")
        f = op(f"qn.rms_norm {h1}, {w(p + 'post_attention_norm.weight', f'tensor<{D}xf32>')} : "
               f"{act(D)}, tensor<{D}xf32>")
        ge, ue, de = Q4.format(f"{E}x{F}x{D}"), Q4.format(f"{E}x{F}x{D}"), Q4.format(f"{E}x{D}x{F}")
        sg, su, sd = Q4.format(f"{FS}x{D}"), Q4.format(f"{FS}x{D}"), Q4.format(f"{D}x{FS}")
        y = op(f"qn.moe {f}, {w(p + 'ffn_gate_inp.weight', f'tensor<{E}x{D}xf32>')}, "
               f"{w(p + 'ffn_gate_exps.weight', ge)}, {w(p + 'ffn_up_exps.weight', ue)}, "
               f"{w(p + 'ffn_down_exps.weight', de)} shared("
               f"{w(p + 'ffn_gate_inp_shexp.weight', f'tensor<{D}xf32>')}, "
               f"{w(p + 'ffn_gate_shexp.weight', sg)}, {w(p + 'ffn_up_shexp.weight', su)}, "
               f"{w(p + 'ffn_down_shexp.weight', sd)}) top_k {K} : "
               f"({act(D)}, tensor<{E}x{D}xf32>, {ge}, {ue}, {de}, tensor<{D}xf32>, "
               f"{sg}, {su}, {sd}) -> {act(D)}")
        h = op(f"qn.add {h1}, {y} : {act(D)}, {act(D)}")
    hn = op(f"qn.rms_norm {h}, {w('output_norm.weight', f'tensor<{D}xf32>')} : "
            f"{act(D)}, tensor<{D}xf32>")
    logits = op(f"qn.matmul {hn}, {w('output.weight', Q4.format(f'{V}x{D}'))} : "
                f"{act(D)}, {Q4.format(f'{V}x{D}')}")
    results.insert(0, act(V))
    ret.insert(0, (logits, act(V)))
    print(f"func.func @qwen3next_{layers}({', '.join(args)})")
    print(f"    -> ({', '.join(results)}) {{")
    print("\n".join(body))
    print(f"  return {', '.join(r for r, _ in ret)} : {', '.join(t for _, t in ret)}")
    print("}")


main()
