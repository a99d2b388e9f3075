using System.Runtime.InteropServices;
using Basalt.Tensors.Threading;

namespace Basalt.Tensors.Tests.Threading;

public sealed unsafe class ReadAheadTests
{
    private struct Never : IStopSignal
    {
        public readonly bool ShouldStop => false;
    }

    /// <summary>Says stop from its <c>n</c>-th look on.</summary>
    private struct After(int n) : IStopSignal
    {
        private int _looks;
        public bool ShouldStop => ++_looks > n;
    }

    [Fact]
    public void ReadsEveryWholeLineOfTheRangeAndNothingPastIt()
    {
        const int lines = 40;
        var buffer = (byte*)NativeMemory.AlignedAlloc(lines * 64 + 64, 64);
        try
        {
            new Span<byte>(buffer, lines * 64 + 64).Clear();
            buffer[0] = 1;                // first line
            buffer[17 * 64] = 2;          // in the second block
            buffer[(lines - 1) * 64] = 4; // last whole line
            buffer[lines * 64] = 8;       // the line the range ends inside
            var never = new Never();
            long read = new ReadAhead(buffer, lines * 64 + 10).Read(ref never, out int fold);
            Assert.Equal(lines * 64, read);
            Assert.Equal(1 | 2 | 4, fold);
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
        }
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, ReadAhead.Block)]
    [InlineData(3, 3 * ReadAhead.Block)]
    public void StopsAtTheFirstLookThatSaysSo(int looks, long expected)
    {
        var buffer = (byte*)NativeMemory.AlignedAlloc(8 * ReadAhead.Block, 64);
        try
        {
            new Span<byte>(buffer, 8 * ReadAhead.Block).Fill(0);
            buffer[looks * ReadAhead.Block] = 1; // the first line not to be read
            var stop = new After(looks);
            long read = new ReadAhead(buffer, 8 * ReadAhead.Block).Read(ref stop, out int fold);
            Assert.Equal(expected, read);
            Assert.Equal(0, fold);
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
        }
    }

    [Fact]
    public void AnEmptyOrNegativeRangeReadsNothing()
    {
        var never = new Never();
        Assert.True(new ReadAhead(null, 0).IsEmpty);
        Assert.True(default(ReadAhead).IsEmpty);
        Assert.True(new ReadAhead(null, -5).IsEmpty);
        Assert.Equal(0, new ReadAhead(null, -5).Read(ref never, out _));
    }
}
