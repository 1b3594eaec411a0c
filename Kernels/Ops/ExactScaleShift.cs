namespace RevNetIlgpu.Kernels;

/// <summary>
/// The exact affine coupling of one element, y = x·scale + t in fixed point, undone bit for bit. Multiplying by a scale
/// below one drops low bits, which a bijection cannot do, so they are kept, as Maclaurin et al. 2015 and MacKay et al. 2018
/// ("Reversible Recurrent Neural Networks") do, in a per-element integer <em>information buffer</em> B used as a stack:
/// with X = x·2^k, the scale quantised to n/2^R (n = round(sigmoid(s + 2)·2^R), 1 ≤ n ≤ 2^R, R = <see cref="ScaleBits"/>)
/// and T = round(t·2^k):
/// <code>
///   P = X·n + (B mod n);  B ← B div n          (pop: fills the low digits the product leaves empty)
///   B ← B·2^R + (P mod 2^R);  X' = P div 2^R   (push: the bits the division drops)
///   Y = X' + T
/// </code>
/// and the inverse runs the steps backwards. Each coupling grows B by about log2(2^R / n) = −log2(scale) bits (0.18 at the
/// initial scale 0.88, 1 at 0.5, at most R); B is 64 bits, and a push that would overflow it is reported, never wrapped.
/// Integer steps are exact on every backend; the scale is computed by the shared <see cref="CouplingArithmetic.Scale(float)"/>.
/// </summary>
public static class ExactScaleShift
{
    /// <summary>R: the scale is quantised to multiples of 2^−R; each push needs R free bits at the top of B.</summary>
    public const int ScaleBits = 8;

    const long Denominator = 1L << ScaleBits, Remainder = Denominator - 1;

    /// <summary>Pushes need B below this: B·2^R + (2^R − 1) must fit in 64 bits.</summary>
    const ulong Capacity = 1UL << (64 - ScaleBits);

    /// <summary>Codes written to an overflow flag: a value left the format's range, or the information buffer is full.</summary>
    public const int OutOfRange = 1, BufferFull = 2;

    /// <summary>One element's result: the value, the updated information word, and 0 or an overflow code.</summary>
    public struct Result
    {
        /// <summary>The output element: y for the forward, x for the inverse.</summary>
        public float Value;

        /// <summary>The element's information word after the push or pop.</summary>
        public ulong Information;

        /// <summary>0, or <see cref="OutOfRange"/> or <see cref="BufferFull"/> (forward only).</summary>
        public int Overflow;
    }

    /// <summary>
    /// n, the scale's numerator over 2^R, from s: round(sigmoid(s + 2)·2^R) kept in [1, 2^R] (NaN gives 1). A kernel computes it
    /// once per element before choosing the direction, so the forward and the inverse use one compiled computation of it.
    /// </summary>
    public static long Numerator(float s)
    {
        float n = CouplingArithmetic.RoundHalfUp(CouplingArithmetic.Scale(s) * Denominator);
        return n >= 1f ? (long)n : 1; // n ≤ 2^R since the scale is below one
    }

    /// <summary>
    /// y = x·n/2^R + t on the grid of <paramref name="format"/>, pushing the dropped bits onto <paramref name="information"/>;
    /// <paramref name="n"/> from <see cref="Numerator"/>, <paramref name="scaleIsNaN"/> whether s was NaN (reported).
    /// </summary>
    public static Result Forward(FixedPointFormat format, float x, long n, bool scaleIsNaN, float t, ulong information)
    {
        var result = new Result();
        float shift = CouplingArithmetic.Round(format, t);
        if (!CouplingArithmetic.InRange(format, shift) || scaleIsNaN) result.Overflow = OutOfRange;
        long product = (long)(x * format.Scale) * n + (long)(information % (ulong)n);
        information /= (ulong)n;
        if (information >= Capacity) result.Overflow = BufferFull;
        result.Information = (information << ScaleBits) | (ulong)(product & Remainder);
        long y = (product >> ScaleBits) + (result.Overflow == 0 ? (long)(shift * format.Scale) : 0);
        result.Value = y * format.Step;
        if (!CouplingArithmetic.InRange(format, result.Value)) result.Overflow = OutOfRange;
        return result;
    }

    /// <summary>The x that <see cref="Forward"/> mapped to <paramref name="y"/>, popping its bits off <paramref name="information"/>.</summary>
    public static Result Inverse(FixedPointFormat format, float y, long n, float t, ulong information)
    {
        long scaled = (long)(y * format.Scale) - (long)(CouplingArithmetic.Round(format, t) * format.Scale);
        long product = (scaled << ScaleBits) | (long)(information & Remainder);
        long x = product / n, carried = product - x * n;
        if (carried < 0)
        {
            x--;
            carried += n;
        }
        return new Result { Value = x * format.Step, Information = (information >> ScaleBits) * (ulong)n + (ulong)carried };
    }
}
