using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Text;
using HermesGateway.Core.Errors;

namespace HermesGateway.Core.Launchd;

/// <summary>
/// Reads binary property lists (<c>bplist00</c>, the form <c>plutil -convert binary1</c> and CoreFoundation write)
/// into the same values <see cref="PlistReader.ParseXml"/> gives for the XML form. Hostile input is refused with
/// <see cref="HermesErrorIds.PlistMalformed"/>, never with another exception: every offset, length and count is
/// checked against the file before it is used, reference cycles are refused, and so is nesting deeper than
/// <see cref="PlistReader.MaxDepth"/>.
/// </summary>
/// <remarks>
/// Layout: the 8-byte header <c>bplist00</c>; the objects; the offset table (one big-endian offset per object);
/// a 32-byte trailer: 5 unused bytes, the sort version, the offset size, the object-reference size, then the number
/// of objects, the top object and the offset table's offset as 8-byte big-endian integers.
/// Refused as malformed, because an XML plist has no way to hold them: null (0x00), fill (0x0F), UIDs (0x8n, which
/// only keyed archives use), ordered sets (0xBn), integers that do not fit a signed 64-bit integer, strings that are
/// not valid ASCII/UTF-16/UTF-8 (an unpaired surrogate, a byte above 0x7F in an ASCII string) and dates outside
/// years 1 to 9999. Sets (0xCn) read as arrays; UTF-8 strings (0x7n) are accepted.
/// A document whose values, counted as a tree (a shared object once per reference), exceed
/// <see cref="MaxValues"/> is refused, so that references shared many times cannot expand without bound.
/// </remarks>
public static class BinaryPlistReader
{
    /// <summary>The most values a document may expand to; far above any launchd job.</summary>
    public const int MaxValues = 1 << 20;

    private const int HeaderSize = 8;
    private const int TrailerSize = 32;

    public static PlistValue Parse(ReadOnlySpan<byte> data, string path)
    {
        var parser = new Parser(data, path);
        return parser.Document();
    }

    private ref struct Parser
    {
        private static readonly long Epoch2001Ticks = new DateTimeOffset(2001, 1, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks;

        private readonly ReadOnlySpan<byte> data;
        private readonly string path;
        private int offsetSize;
        private int refSize;
        private int objectCount;
        private int offsetTable;
        private PlistValue?[] scalars;
        private bool[] open;
        private int values;

        public Parser(ReadOnlySpan<byte> data, string path)
        {
            this.data = data;
            this.path = path;
            this.scalars = [];
            this.open = [];
        }

        public PlistValue Document()
        {
            if (this.data.Length < HeaderSize + TrailerSize + 2)
            {
                throw Malformed($"is {this.data.Length} bytes, too short for a binary property list");
            }

            if (!this.data.StartsWith("bplist00"u8))
            {
                throw Malformed("does not start with 'bplist00'; only version 00 of the binary format is read");
            }

            var trailer = this.data[^TrailerSize..];
            this.offsetSize = trailer[6];
            this.refSize = trailer[7];
            var objectCount = BinaryPrimitives.ReadUInt64BigEndian(trailer[8..16]);
            var topObject = BinaryPrimitives.ReadUInt64BigEndian(trailer[16..24]);
            var offsetTable = BinaryPrimitives.ReadUInt64BigEndian(trailer[24..32]);
            var trailerStart = (ulong)(this.data.Length - TrailerSize);

            if (this.offsetSize is < 1 or > 8 || this.refSize is < 1 or > 8)
            {
                throw Malformed($"declares {this.offsetSize}-byte offsets and {this.refSize}-byte object references; both must be 1 to 8 bytes");
            }

            if (offsetTable <= HeaderSize || offsetTable >= trailerStart)
            {
                throw Malformed($"puts its offset table at {offsetTable}, outside the file's {this.data.Length} bytes of objects");
            }

            if (objectCount == 0 || objectCount > (trailerStart - offsetTable) / (ulong)this.offsetSize)
            {
                throw Malformed($"declares {objectCount} objects, which its offset table cannot hold");
            }

            if (topObject >= objectCount)
            {
                throw Malformed($"names object {topObject} as its top object, but has only {objectCount}");
            }

            // All three are bounded by the file's length now, so they fit an int.
            this.objectCount = (int)objectCount;
            this.offsetTable = (int)offsetTable;
            this.scalars = new PlistValue?[this.objectCount];
            this.open = new bool[this.objectCount];
            return ReadObject((int)topObject, depth: 1);
        }

        private PlistValue ReadObject(int index, int depth)
        {
            if (depth > PlistReader.MaxDepth)
            {
                throw Malformed($"nests values more than {PlistReader.MaxDepth} levels deep");
            }

            if (++this.values > MaxValues)
            {
                throw Malformed($"expands to more than {MaxValues} values");
            }

            if (this.scalars[index] is { } known)
            {
                return known;
            }

            if (this.open[index])
            {
                throw Malformed($"has object {index} contain itself");
            }

            var offset = ObjectOffset(index);
            var marker = this.data[offset];
            var info = marker & 0x0F;
            switch (marker >> 4)
            {
                case 0x0:
                    return info switch
                    {
                        0x8 => Remember(index, new PlistBoolean(false)),
                        0x9 => Remember(index, new PlistBoolean(true)),
                        0x0 => throw Malformed($"has a null at object {index}, which property lists in XML cannot hold"),
                        _ => throw Malformed($"has the unknown marker 0x{marker:X2} at object {index}"),
                    };
                case 0x1:
                    return Remember(index, new PlistInteger(ReadInteger(offset, index)));
                case 0x2:
                    return Remember(index, new PlistReal(ReadReal(offset, info, index)));
                case 0x3 when info == 0x3:
                    return Remember(index, new PlistDate(ReadDate(offset, index)));
                case 0x4:
                    {
                        var (start, length) = Extent(offset, info, 1, index);
                        return Remember(index, new PlistData([.. this.data.Slice(start, length)]));
                    }

                case 0x5 or 0x6 or 0x7:
                    return Remember(index, new PlistString(ReadString(offset, index)));
                case 0x8:
                    throw Malformed($"has a UID at object {index}; UIDs belong to keyed archives, not to property lists launchd reads");
                case 0xA or 0xC:
                    return ReadArray(offset, info, index, depth);
                case 0xD:
                    return ReadDict(offset, info, index, depth);
                default:
                    throw Malformed($"has the unknown marker 0x{marker:X2} at object {index}");
            }
        }

        private PlistValue Remember(int index, PlistValue value)
        {
            this.scalars[index] = value;
            return value;
        }

        private PlistArray ReadArray(int offset, int info, int index, int depth)
        {
            var (start, count) = Extent(offset, info, this.refSize, index);
            this.open[index] = true;
            var items = ImmutableArray.CreateBuilder<PlistValue>(count);
            for (var i = 0; i < count; i++)
            {
                items.Add(ReadObject(Reference(start + (i * this.refSize), index), depth + 1));
            }

            this.open[index] = false;
            return new PlistArray(items.MoveToImmutable());
        }

        private PlistDict ReadDict(int offset, int info, int index, int depth)
        {
            // Keys' references first, then the values' references: the extent holds 2 × count references.
            var (start, count) = Extent(offset, info, 2 * this.refSize, index);
            this.open[index] = true;
            var entries = ImmutableArray.CreateBuilder<KeyValuePair<string, PlistValue>>(count);
            for (var i = 0; i < count; i++)
            {
                var key = ReadKey(Reference(start + (i * this.refSize), index), index);
                var value = ReadObject(Reference(start + ((count + i) * this.refSize), index), depth + 1);
                entries.Add(new(key, value));
            }

            this.open[index] = false;
            return new PlistDict(entries.MoveToImmutable());
        }

        private string ReadKey(int keyIndex, int dictIndex)
        {
            if (this.scalars[keyIndex] is PlistString known)
            {
                return known.Value;
            }

            var offset = ObjectOffset(keyIndex);
            if ((this.data[offset] >> 4) is not (0x5 or 0x6 or 0x7))
            {
                throw Malformed($"has a dictionary (object {dictIndex}) whose key, object {keyIndex}, is not a string");
            }

            if (++this.values > MaxValues)
            {
                throw Malformed($"expands to more than {MaxValues} values");
            }

            var key = ReadString(offset, keyIndex);
            this.scalars[keyIndex] = new PlistString(key);
            return key;
        }

        private string ReadString(int offset, int index)
        {
            var kind = this.data[offset] >> 4;
            var info = this.data[offset] & 0x0F;
            var (start, length) = Extent(offset, info, kind == 0x6 ? 2 : 1, index);
            var bytes = this.data.Slice(start, kind == 0x6 ? 2 * length : length);
            switch (kind)
            {
                case 0x5:
                    if (bytes.ContainsAnyExceptInRange((byte)0x00, (byte)0x7F))
                    {
                        throw Malformed($"has an ASCII string (object {index}) holding a byte above 0x7F");
                    }

                    return Encoding.ASCII.GetString(bytes);
                case 0x6:
                    var chars = new char[length];
                    for (var i = 0; i < length; i++)
                    {
                        chars[i] = (char)BinaryPrimitives.ReadUInt16BigEndian(bytes.Slice(2 * i, 2));
                    }

                    for (var i = 0; i < length; i++)
                    {
                        if (char.IsHighSurrogate(chars[i]) && i + 1 < length && char.IsLowSurrogate(chars[i + 1]))
                        {
                            i++;
                        }
                        else if (char.IsSurrogate(chars[i]))
                        {
                            throw Malformed($"has a UTF-16 string (object {index}) holding an unpaired surrogate");
                        }
                    }

                    return new string(chars);
                default:
                    if (!System.Text.Unicode.Utf8.IsValid(bytes))
                    {
                        throw Malformed($"has a UTF-8 string (object {index}) that is not valid UTF-8");
                    }

                    return Encoding.UTF8.GetString(bytes);
            }
        }

        private long ReadInteger(int offset, int index)
        {
            var size = 1 << (this.data[offset] & 0x0F);
            if (size > 16)
            {
                throw Malformed($"has an integer (object {index}) of 2^{this.data[offset] & 0x0F} bytes; the format has 1, 2, 4, 8 and 16");
            }

            var bytes = Bytes(offset + 1, size, index);
            switch (size)
            {
                case 8:
                    return BinaryPrimitives.ReadInt64BigEndian(bytes);
                case 16:
                    var wide = BinaryPrimitives.ReadInt128BigEndian(bytes);
                    if (wide < long.MinValue || wide > long.MaxValue)
                    {
                        throw Malformed($"has an integer (object {index}) outside the signed 64-bit range that property lists in XML are read with");
                    }

                    return (long)wide;
                default:
                    return (long)UnsignedBigEndian(bytes);
            }
        }

        private double ReadReal(int offset, int info, int index) => info switch
        {
            0x2 => BinaryPrimitives.ReadSingleBigEndian(Bytes(offset + 1, 4, index)),
            0x3 => BinaryPrimitives.ReadDoubleBigEndian(Bytes(offset + 1, 8, index)),
            _ => throw Malformed($"has a real (object {index}) of 2^{info} bytes; the format has 4 and 8"),
        };

        private DateTimeOffset ReadDate(int offset, int index)
        {
            var seconds = BinaryPrimitives.ReadDoubleBigEndian(Bytes(offset + 1, 8, index));
            var min = (DateTimeOffset.MinValue.UtcTicks - Epoch2001Ticks) / TimeSpan.TicksPerSecond;
            var max = (DateTimeOffset.MaxValue.UtcTicks - Epoch2001Ticks) / TimeSpan.TicksPerSecond;

            // NaN fails both comparisons, so it is refused too.
            if (!(seconds >= min && seconds <= max))
            {
                throw Malformed($"has a date (object {index}) {seconds} seconds from 2001-01-01, outside years 1 to 9999");
            }

            // Whole seconds and the fraction apart: seconds × 10^7 as one double would blur whole-second dates far from 2001.
            var whole = Math.Floor(seconds);
            var ticks = ((long)whole * TimeSpan.TicksPerSecond) + (long)Math.Round((seconds - whole) * TimeSpan.TicksPerSecond);
            return new DateTimeOffset(Math.Clamp(Epoch2001Ticks + ticks, DateTimeOffset.MinValue.UtcTicks, DateTimeOffset.MaxValue.UtcTicks), TimeSpan.Zero);
        }

        /// <summary>Where an object's payload starts and how many elements of <paramref name="elementSize"/> bytes it has, all inside the objects' area.</summary>
        private (int Start, int Count) Extent(int offset, int info, int elementSize, int index)
        {
            ulong count;
            int start;
            if (info != 0xF)
            {
                count = (ulong)info;
                start = offset + 1;
            }
            else
            {
                var countMarker = Bytes(offset + 1, 1, index)[0];
                if (countMarker >> 4 != 0x1 || (countMarker & 0x0F) > 3)
                {
                    throw Malformed($"has object {index} whose length is not given by a 1- to 8-byte integer");
                }

                var size = 1 << (countMarker & 0x0F);
                var value = Bytes(offset + 2, size, index);
                if (size == 8 && BinaryPrimitives.ReadInt64BigEndian(value) < 0)
                {
                    throw Malformed($"has object {index} with a negative length");
                }

                count = UnsignedBigEndian(value);
                start = offset + 2 + size;
            }

            // offset < this.offsetTable, so start <= this.offsetTable + 9 at most: no overflow, and the division bounds count.
            var room = start <= this.offsetTable ? (ulong)(this.offsetTable - start) : 0UL;
            if (count > room / (ulong)elementSize)
            {
                throw Malformed($"has object {index} claim {count} elements, more than the {room} bytes left before the offset table hold");
            }

            return (start, (int)count);
        }

        private ReadOnlySpan<byte> Bytes(int start, int length, int index)
        {
            if (start > this.offsetTable || length > this.offsetTable - start)
            {
                throw Malformed($"has object {index} run past the end of the objects into the offset table");
            }

            return this.data.Slice(start, length);
        }

        private int ObjectOffset(int index)
        {
            var offset = UnsignedBigEndian(this.data.Slice(this.offsetTable + (index * this.offsetSize), this.offsetSize));
            if (offset < HeaderSize || offset >= (ulong)this.offsetTable)
            {
                throw Malformed($"puts object {index} at offset {offset}, outside the objects (bytes {HeaderSize} to {this.offsetTable - 1})");
            }

            return (int)offset;
        }

        private int Reference(int position, int containerIndex)
        {
            var reference = UnsignedBigEndian(this.data.Slice(position, this.refSize));
            if (reference >= (ulong)this.objectCount)
            {
                throw Malformed($"has object {containerIndex} refer to object {reference}, but there are only {this.objectCount}");
            }

            return (int)reference;
        }

        private static ulong UnsignedBigEndian(ReadOnlySpan<byte> bytes)
        {
            ulong value = 0;
            foreach (var b in bytes)
            {
                value = (value << 8) | b;
            }

            return value;
        }

        private readonly HermesException Malformed(string what) =>
            new(HermesErrorIds.PlistMalformed, HermesErrorCategory.InvalidData, $"'{this.path}' is not a valid binary property list: it {what}.", this.path);
    }
}
