/**
 * Elementwise ops with numpy broadcasting and their VJP rules. Gradients of
 * broadcast operands are summed back to the operand's shape by reduceTo.
 */
import type { GraphCore, TensorRef, VjpRule } from '../core.ts';
import type { Tensor } from '../types.ts';
import { isFloat } from '../types.ts';
import { broadcastShapes } from '../shape.ts';
import { reduceTo } from './reduce-to.ts';

type X = Tensor | number;

function operands(g: GraphCore, op: string, a: X, b: X): [TensorRef, TensorRef] {
  if (typeof a === 'number' && typeof b === 'number') throw new Error(`${op}: at least one operand must be a tensor`);
  const dtype = typeof a === 'number' ? (b as Tensor).dtype : a.dtype;
  const ta = g.lift(a, dtype, `${op} operand a`);
  const tb = g.lift(b, dtype, `${op} operand b`);
  if (ta.dtype !== tb.dtype) throw new Error(`${op}: dtypes differ (${ta.name}: ${ta.dtype}, ${tb.name}: ${tb.dtype}); cast first`);
  return [ta, tb];
}

function binary(g: GraphCore, op: string, a: X, b: X, vjp?: VjpRule): TensorRef {
  const [ta, tb] = operands(g, op, a, b);
  const shape = broadcastShapes(ta.shape, tb.shape);
  return g.emit(op, [ta, tb], { shape, dtype: ta.dtype }, {}, vjp);
}

function unary(g: GraphCore, op: string, a: Tensor, vjp?: VjpRule): TensorRef {
  const t = g.own(a, op);
  if (!isFloat(t.dtype) && op !== 'Neg' && op !== 'Abs' && op !== 'Sign') throw new Error(`${op}: needs a float tensor, got ${t.dtype} '${t.name}'`);
  return g.emit(op, [t], { shape: t.shape, dtype: t.dtype }, {}, vjp);
}

const n = (need: boolean, f: () => TensorRef): TensorRef | null => (need ? f() : null);

export const add = (g: GraphCore, a: X, b: X): TensorRef =>
  binary(g, 'Add', a, b, ({ dy, need, x }) => [n(need[0], () => reduceTo(g, dy, x(0).shape)), n(need[1], () => reduceTo(g, dy, x(1).shape))]);

export const sub = (g: GraphCore, a: X, b: X): TensorRef =>
  binary(g, 'Sub', a, b, ({ dy, need, x }) => [
    n(need[0], () => reduceTo(g, dy, x(0).shape)),
    n(need[1], () => neg(g, reduceTo(g, dy, x(1).shape))),
  ]);

export const mul = (g: GraphCore, a: X, b: X): TensorRef =>
  binary(g, 'Mul', a, b, ({ dy, need, x }) => [
    n(need[0], () => reduceTo(g, mul(g, dy, x(1)), x(0).shape)),
    n(need[1], () => reduceTo(g, mul(g, dy, x(0)), x(1).shape)),
  ]);

// d(a/b)/db = -y/b, which reuses the output instead of squaring b.
export const div = (g: GraphCore, a: X, b: X): TensorRef =>
  binary(g, 'Div', a, b, ({ dy, need, x, y }) => [
    n(need[0], () => reduceTo(g, div(g, dy, x(1)), x(0).shape)),
    n(need[1], () => neg(g, reduceTo(g, div(g, mul(g, dy, y()), x(1)), x(1).shape))),
  ]);

// Ties send the gradient to `a` (the first operand), like a >= b selection.
export const maximum = (g: GraphCore, a: X, b: X): TensorRef =>
  binary(g, 'Max', a, b, ({ dy, need, x }) => {
    const pick = compare(g, 'GreaterOrEqual', x(0), x(1));
    return [
      n(need[0], () => reduceTo(g, where(g, pick, dy, 0), x(0).shape)),
      n(need[1], () => reduceTo(g, where(g, pick, 0, dy), x(1).shape)),
    ];
  });

export const minimum = (g: GraphCore, a: X, b: X): TensorRef =>
  binary(g, 'Min', a, b, ({ dy, need, x }) => {
    const pick = compare(g, 'LessOrEqual', x(0), x(1));
    return [
      n(need[0], () => reduceTo(g, where(g, pick, dy, 0), x(0).shape)),
      n(need[1], () => reduceTo(g, where(g, pick, 0, dy), x(1).shape)),
    ];
  });

export const pow = (g: GraphCore, a: Tensor, p: number): TensorRef => {
  const t = g.own(a, 'pow');
  if (!isFloat(t.dtype)) throw new Error(`pow: needs a float tensor, got ${t.dtype} '${t.name}'`);
  return g.emit('Pow', [t, g.scalar(p, t.dtype)], { shape: t.shape, dtype: t.dtype }, {}, ({ dy, need, x }) => {
    if (!need[0]) return [null];
    if (p === 0) return [mul(g, dy, 0)];
    if (p === 1) return [dy];
    // p*a^(p-1); p=2 avoids a Pow kernel in the backward.
    const d: TensorRef = p === 2 ? mul(g, x(0), 2) : mul(g, pow(g, x(0), p - 1), p);
    return [mul(g, dy, d)];
  });
};

export const neg = (g: GraphCore, a: Tensor): TensorRef => unary(g, 'Neg', a, ({ dy }) => [neg(g, dy)]);
export const exp = (g: GraphCore, a: Tensor): TensorRef => unary(g, 'Exp', a, ({ dy, y }) => [mul(g, dy, y())]);
export const log = (g: GraphCore, a: Tensor): TensorRef => unary(g, 'Log', a, ({ dy, x }) => [div(g, dy, x(0))]);
export const sqrt = (g: GraphCore, a: Tensor): TensorRef => unary(g, 'Sqrt', a, ({ dy, y }) => [div(g, mul(g, dy, 0.5), y())]);
export const reciprocal = (g: GraphCore, a: Tensor): TensorRef =>
  unary(g, 'Reciprocal', a, ({ dy, y }) => [neg(g, mul(g, dy, mul(g, y(), y())))]);
/** 1/sqrt(a) as Sqrt+Reciprocal: ORT has no Rsqrt op, and Pow(a,-0.5) is slower. */
export const rsqrt = (g: GraphCore, a: Tensor): TensorRef => reciprocal(g, sqrt(g, a));
export const tanh = (g: GraphCore, a: Tensor): TensorRef =>
  unary(g, 'Tanh', a, ({ dy, y }) => [mul(g, dy, sub(g, 1, mul(g, y(), y())))]);
export const sigmoid = (g: GraphCore, a: Tensor): TensorRef =>
  unary(g, 'Sigmoid', a, ({ dy, y }) => [mul(g, dy, mul(g, y(), sub(g, 1, y())))]);
/**
 * x*sigmoid(x) as Sigmoid + Mul with one fused rule sent straight to x: silu'(x) = s + y(1 - s) = s(1 - y) + y
 * (s = sigmoid(x), y = silu(x)): four elementwise ops in the backward instead of the chained Mul/Sigmoid rules' six.
 */
export const silu = (g: GraphCore, a: Tensor): TensorRef => {
  const t = g.own(a, 'silu');
  if (!isFloat(t.dtype)) throw new Error(`silu: needs a float tensor, got ${t.dtype} '${t.name}'`);
  const s = g.emit('Sigmoid', [t], { shape: t.shape, dtype: t.dtype });
  return g.emit('Mul', [t, s], { shape: t.shape, dtype: t.dtype }, {}, ({ dy, y: out, value }) => [
    mul(g, dy, add(g, mul(g, value(s), sub(g, 1, out())), out())),
  ], [t]);
};
export const relu = (g: GraphCore, a: Tensor): TensorRef =>
  unary(g, 'Relu', a, ({ dy, x }) => [where(g, compare(g, 'Greater', x(0), 0), dy, 0)]);
export const abs = (g: GraphCore, a: Tensor): TensorRef =>
  unary(g, 'Abs', a, ({ dy, x }) => [mul(g, dy, unary(g, 'Sign', x(0)))]);
export const sin = (g: GraphCore, a: Tensor): TensorRef => unary(g, 'Sin', a, ({ dy, x }) => [mul(g, dy, cos(g, x(0)))]);
export const cos = (g: GraphCore, a: Tensor): TensorRef =>
  unary(g, 'Cos', a, ({ dy, x }) => [neg(g, mul(g, dy, sin(g, x(0))))]);
export const sign = (g: GraphCore, a: Tensor): TensorRef => unary(g, 'Sign', a);

/** Identity with no VJP: values flow forward, gradients stop (detach). */
export const stopGradient = (g: GraphCore, a: Tensor): TensorRef => {
  const t = g.own(a, 'stopGradient');
  return g.emit('Identity', [t], { shape: t.shape, dtype: t.dtype });
};

export const clip = (g: GraphCore, a: Tensor, lo: number, hi: number): TensorRef => {
  const t = g.own(a, 'clip');
  if (!(lo <= hi)) throw new Error(`clip: lo ${lo} must be <= hi ${hi}`);
  return g.emit('Clip', [t, g.scalar(lo, t.dtype), g.scalar(hi, t.dtype)], { shape: t.shape, dtype: t.dtype }, {}, ({ dy, x }) => {
    // Gradient passes where lo <= a <= hi (PyTorch clamp convention at the bounds).
    const inside = logical(g, 'And', compare(g, 'GreaterOrEqual', x(0), lo), compare(g, 'LessOrEqual', x(0), hi));
    return [where(g, inside, dy, 0)];
  });
};

export const where = (g: GraphCore, cond: Tensor, a: X, b: X): TensorRef => {
  const c = g.own(cond, 'where condition');
  if (c.dtype !== 'bool') throw new Error(`where: condition '${c.name}' must be bool, got ${c.dtype}`);
  const [ta, tb] = operands(g, 'Where', a, b);
  const shape = broadcastShapes(c.shape, ta.shape, tb.shape);
  return g.emit('Where', [c, ta, tb], { shape, dtype: ta.dtype }, {}, ({ dy, need, x }) => [
    null,
    n(need[1], () => reduceTo(g, where(g, x(0), dy, 0), x(1).shape)),
    n(need[2], () => reduceTo(g, where(g, x(0), 0, dy), x(2).shape)),
  ]);
};

/** Comparisons produce bool and carry no gradient. */
export function compare(g: GraphCore, op: 'Equal' | 'Less' | 'Greater' | 'GreaterOrEqual' | 'LessOrEqual', a: X, b: X): TensorRef {
  const [ta, tb] = operands(g, op, a, b);
  return g.emit(op, [ta, tb], { shape: broadcastShapes(ta.shape, tb.shape), dtype: 'bool' });
}

export function logical(g: GraphCore, op: 'And' | 'Or' | 'Xor', a: Tensor, b: Tensor): TensorRef {
  const ta = g.own(a, op);
  const tb = g.own(b, op);
  if (ta.dtype !== 'bool' || tb.dtype !== 'bool') throw new Error(`${op}: operands must be bool ('${ta.name}', '${tb.name}')`);
  return g.emit(op, [ta, tb], { shape: broadcastShapes(ta.shape, tb.shape), dtype: 'bool' });
}

export function not(g: GraphCore, a: Tensor): TensorRef {
  const t = g.own(a, 'not');
  if (t.dtype !== 'bool') throw new Error(`not: operand '${t.name}' must be bool, got ${t.dtype}`);
  return g.emit('Not', [t], { shape: t.shape, dtype: 'bool' });
}
