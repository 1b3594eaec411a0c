namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// A 3x3 stride-1 correlation as Winograd computes it: output [Images, OutChannels, OutH, OutW] from input
/// [Images, InChannels, InH, InW] zero-padded by <see cref="Pad"/> on every side (a negative pad crops). A convolution's
/// forward and weight gradient are one directly; its grad-input is one of gy with pad 2 − pad.
/// </summary>
readonly record struct WinogradCorrelation(int Images, int InChannels, int InH, int InW, int OutChannels, int OutH, int OutW, int Pad)
{
    public static WinogradCorrelation Forward(Conv2dShape s) => new(s.N, s.C, s.H, s.W, s.K, s.OutH, s.OutW, s.Pad);

    public static WinogradCorrelation GradInput(Conv2dShape s) => new(s.N, s.K, s.OutH, s.OutW, s.C, s.H, s.W, 2 - s.Pad);
}

/// <summary>
/// The output tiles (M x M each) of a <see cref="WinogradCorrelation"/>, image after image and row after row, cut into
/// blocks of <see cref="Width"/> tiles: the unit of the transforms. A block's tiles fall into runs, each the consecutive
/// tiles of one tile row of one image. Laid side by side (M floats per tile), a block's row of tiles is read and
/// written one register of <see cref="Count"/> floats at a time; a register holds one run's tiles (read straight from a
/// zero-padded canvas of the input, or written straight into the output) or, for runs shorter than a register, pieces
/// of several (<see cref="TilePiece"/>), assembled and scattered lane by lane.
/// <para>Canvases: the input's [Images, InChannels, CanvasH, CanvasW] holds every tile's α x α inputs (α = M + 2; its
/// row i is input row i − Pad); the output gradient's [Images, OutChannels, GradientH, GradientW] pads gy with zeros to
/// whole tiles.</para>
/// </summary>
readonly struct WinogradTiling
{
    public readonly WinogradCorrelation Problem;
    public readonly int M, Width, Count, TilesH, TilesW, Blocks;
    public readonly long Tiles;

    public WinogradTiling(WinogradCorrelation p, int m, int width, int count)
    {
        (Problem, M, Width, Count) = (p, m, width, count);
        TilesH = (p.OutH + m - 1) / m;
        TilesW = (p.OutW + m - 1) / m;
        Tiles = (long)p.Images * TilesH * TilesW;
        Blocks = checked((int)((Tiles + width - 1) / width));
    }

    public int CanvasH => M * TilesH + 2;

    public int CanvasW => M * TilesW + 2;

    /// <summary>Floats of one channel of one image's input canvas.</summary>
    public long CanvasPlane => (long)CanvasH * CanvasW;

    public int GradientH => M * TilesH;

    public int GradientW => M * TilesW;

    public long GradientPlane => (long)GradientH * GradientW;

    /// <summary>gy already covers whole tiles: it is its own canvas.</summary>
    public bool GradientIsOutput => GradientH == Problem.OutH && GradientW == Problem.OutW;

    /// <summary>Floats kept before and after a canvas: loads of lanes past a run (whose values are discarded) reach that far.</summary>
    public int CanvasMargin => Count + M;

    /// <summary>Registers in a block's row of tiles.</summary>
    public int Registers => M * Width / Count;

    /// <summary>Most pieces a block has: one per register plus one more wherever a run ends inside a register.</summary>
    public int MostPieces => Registers + Width;

    /// <summary>
    /// Fills <paramref name="pieces"/> with the pieces of <paramref name="block"/>'s registers, register after register;
    /// register j's are [<paramref name="firstPiece"/>[j], <paramref name="firstPiece"/>[j + 1]).
    /// </summary>
    public unsafe void PiecesOf(int block, TilePiece* pieces, int* firstPiece)
    {
        var p = Problem;
        long first = (long)block * Width, end = Math.Min(Tiles, first + Width);
        int count = 0, register = 0, perImage = TilesH * TilesW;
        for (long t = first; t < end;)
        {
            int image = (int)(t / perImage), inImage = (int)(t % perImage), tileRow = inImage / TilesW, tileColumn = inImage % TilesW;
            int lane = (int)(t - first), length = (int)Math.Min(TilesW - tileColumn, end - t);
            int from = M * lane, to = M * (lane + length);
            for (int j = from / Count; j * Count < to; j++)
            {
                for (; register <= j; register++) firstPiece[register] = count;
                // The column, in the canvases and the output row, of the register's first float.
                int column = M * (tileColumn - lane) + j * Count, low = Math.Max(from - j * Count, 0), high = Math.Min(to - j * Count, Count);
                pieces[count++] = new TilePiece
                {
                    Lanes = new LaneRange(low, high),
                    Out = new LaneRange(low, Math.Max(low, Math.Min(high, p.OutW - column))),
                    OutputRow = tileRow * M,
                    Canvas = (long)image * p.InChannels * CanvasPlane + (long)tileRow * M * CanvasW + column,
                    Gradient = (long)image * p.OutChannels * GradientPlane + (long)tileRow * M * GradientW + column,
                    Output = ((long)image * p.OutChannels * p.OutH + tileRow * M) * p.OutW + column,
                };
            }
            t += length;
        }
        for (; register <= Registers; register++) firstPiece[register] = count;
    }

    /// <summary>The input canvas of image <paramref name="image"/> from <paramref name="source"/> (through <paramref name="activation"/>) into <paramref name="canvas"/> (that image's place).</summary>
    public unsafe void PadInput(float* source, float* canvas, int image, in InputActivation activation)
    {
        var p = Problem;
        new ZeroPaddedImage(p.InChannels, p.InH, p.InW, p.Pad, p.Pad, CanvasH, CanvasW)
            .Fill(source + (long)image * p.InChannels * p.InH * p.InW, canvas + image * p.InChannels * CanvasPlane, activation);
    }

    /// <summary>The output-gradient canvas of image <paramref name="image"/> from gy into <paramref name="canvas"/> (that image's place).</summary>
    public unsafe void PadGradient(float* gy, float* canvas, int image)
    {
        var p = Problem;
        new ZeroPaddedImage(p.OutChannels, p.OutH, p.OutW, 0, 0, GradientH, GradientW)
            .Fill(gy + (long)image * p.OutChannels * p.OutH * p.OutW, canvas + image * p.OutChannels * GradientPlane);
    }
}

/// <summary>
/// The lanes of one register of a block's row of tiles that belong to one run, those of them inside the output's width,
/// the run's first output row (<see cref="OutputRow"/>), and where the register's first float lies for the run at channel
/// 0 and the tile row's first row: in the input canvas, the output-gradient canvas and the output.
/// </summary>
struct TilePiece
{
    public LaneRange Lanes, Out;
    public int OutputRow;
    public long Canvas, Gradient, Output;
}

/// <summary>Lanes [First, End) of a register.</summary>
readonly record struct LaneRange(int First, int End)
{
    public bool IsEmpty => End <= First;

    public bool IsWhole(int count) => First == 0 && End == count;
}
