package dev.spillway.gateway.s3.http;

import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.xml.XmlWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Errors Jetty answers itself, before the S3 handler sees a request (a header section over the
 * limit, an unparseable request line), as S3 error XML rather than an HTML page.
 */
public final class S3ErrorHandler extends ErrorHandler {

    static byte[] document(int status, String message) {
        S3Error e = switch (status) {
            case 431 -> S3Error.REQUEST_HEADER_SECTION_TOO_LARGE;
            case 413 -> S3Error.MAX_MESSAGE_LENGTH_EXCEEDED;
            case 408 -> S3Error.REQUEST_TIMEOUT;
            case 404 -> S3Error.NO_SUCH_KEY;
            case 405 -> S3Error.METHOD_NOT_ALLOWED;
            default -> status >= 500 ? S3Error.INTERNAL_ERROR : S3Error.INVALID_REQUEST;
        };
        return XmlWriter.plainDocument("Error")
                .element("Code", e.code())
                .element("Message", message == null ? e.defaultMessage() : e.defaultMessage() + ": " + message)
                .finish("Error");
    }

    @Override
    protected void generateResponse(
            Request request, Response response, int code, String message, Throwable cause, Callback callback)
            throws IOException {
        byte[] doc = document(code, message);
        response.getHeaders().put("Content-Type", "application/xml");
        response.getHeaders().put("Content-Length", Integer.toString(doc.length));
        response.write(true, ByteBuffer.wrap(doc), callback);
    }

    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        byte[] doc = document(status, reason);
        fields.put("Content-Type", "application/xml");
        return ByteBuffer.wrap(doc);
    }
}
