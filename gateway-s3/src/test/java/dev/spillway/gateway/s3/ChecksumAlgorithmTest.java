package dev.spillway.gateway.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.gateway.s3.auth.ChecksumAlgorithm;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** The check values of the CRC catalogue ("123456789") for the hand-written CRC-64/NVME and the JDK CRCs. */
class ChecksumAlgorithmTest {
    static long value(ChecksumAlgorithm a) {
        ChecksumAlgorithm.Hasher h = a.newHasher();
        byte[] in = "123456789".getBytes(StandardCharsets.US_ASCII);
        h.update(in, 0, 4);
        h.update(in, 4, in.length - 4);
        byte[] v = Base64.getDecoder().decode(h.base64());
        ByteBuffer b = ByteBuffer.allocate(8);
        b.position(8 - v.length);
        b.put(v);
        return b.getLong(0);
    }

    @Test
    void checkValues() {
        assertThat(value(ChecksumAlgorithm.CRC64NVME)).isEqualTo(0xAE8B14860A799888L);
        assertThat(value(ChecksumAlgorithm.CRC32)).isEqualTo(0xCBF43926L);
        assertThat(value(ChecksumAlgorithm.CRC32C)).isEqualTo(0xE3069283L);
    }
}
