package dev.pgmux.proxy.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Checks the JSON Web Tokens of the tenant API: HS256 (HMAC-SHA256) with the configured secret, and nothing else.
 * A token whose header names another algorithm ({@code none}, RS256, HS512, ...) is refused before its signature
 * is looked at; the signature is compared in constant time; {@code exp} is required and honoured, {@code nbf}
 * when present. What is refused is said without quoting the token.
 */
public final class Jwt {
    /** Clocks of the minting host and of pgmux may differ by this much. */
    static final long LEEWAY_SECONDS = 30;
    private static final ObjectMapper JSON = new ObjectMapper();

    private Jwt() {
    }

    /** Why a token is refused; null when it is good. */
    public static String refusal(String token, byte[] secret, long nowSeconds) {
        String[] parts = token.split("\\.", -1);
        if (parts.length != 3) {
            return "the token is not a JWT (three base64url parts separated by dots)";
        }
        JsonNode header;
        JsonNode claims;
        byte[] signature;
        try {
            header = JSON.readTree(decode(parts[0]));
            claims = JSON.readTree(decode(parts[1]));
            signature = decode(parts[2]);
        } catch (IllegalArgumentException | IOException e) {
            return "the token is not a JWT (a part is not base64url-encoded JSON)";
        }
        if (header == null || !header.isObject() || claims == null || !claims.isObject()) {
            return "the token is not a JWT (its header and claims must be JSON objects)";
        }
        JsonNode alg = header.get("alg");
        if (alg == null || !alg.isTextual() || !alg.asText().equals("HS256")) {
            return "the token's alg must be HS256";
        }
        JsonNode typ = header.get("typ");
        if (typ != null && !(typ.isTextual() && typ.asText().equalsIgnoreCase("JWT"))) {
            return "the token's typ must be JWT";
        }
        byte[] expected = hs256(secret, (parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
        if (!MessageDigest.isEqual(expected, signature)) {
            return "the token's signature does not match";
        }
        JsonNode exp = claims.get("exp");
        if (exp == null || !exp.isNumber()) {
            return "the token has no exp (its expiry, in seconds since 1970)";
        }
        if (nowSeconds >= exp.asLong() + LEEWAY_SECONDS) {
            return "the token has expired";
        }
        JsonNode nbf = claims.get("nbf");
        if (nbf != null) {
            if (!nbf.isNumber()) {
                return "the token's nbf must be a number of seconds since 1970";
            }
            if (nowSeconds + LEEWAY_SECONDS < nbf.asLong()) {
                return "the token is not valid yet (nbf)";
            }
        }
        return null;
    }

    /** base64url without padding, as JWTs use it; padding is tolerated, other alphabets are not. */
    private static byte[] decode(String part) {
        String unpadded = part.endsWith("==") ? part.substring(0, part.length() - 2)
                : part.endsWith("=") ? part.substring(0, part.length() - 1) : part;
        return Base64.getUrlDecoder().decode(unpadded);
    }

    static byte[] hs256(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every Java runtime", e);
        }
    }

    /** A token signed with {@code secret}: for tests and tools. */
    public static String sign(String headerJson, String claimsJson, byte[] secret) {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String signed = b64.encodeToString(headerJson.getBytes(StandardCharsets.UTF_8)) + "."
                + b64.encodeToString(claimsJson.getBytes(StandardCharsets.UTF_8));
        return signed + "." + b64.encodeToString(hs256(secret, signed.getBytes(StandardCharsets.US_ASCII)));
    }
}
