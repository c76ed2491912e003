package dev.pgmux.proxy.testing;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;

/** Certificates for TLS tests, made with BouncyCastle: a CA, and server and client certificates it signs. */
public final class TestCertificates {
    private static final AtomicLong SERIALS = new AtomicLong(System.currentTimeMillis());

    /** A certificate with its key pair. */
    public record Issued(X509Certificate certificate, KeyPair keys) {
        public String certificatePem() {
            return pem(certificate);
        }

        /** The private key as PKCS#8 ({@code BEGIN PRIVATE KEY}). */
        public String pkcs8KeyPem() {
            try {
                return pem(new JcaPKCS8Generator(keys.getPrivate(), null).generate());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** The private key as PKCS#1 ({@code BEGIN RSA PRIVATE KEY}), as {@code openssl genrsa} used to write it. */
        public String pkcs1KeyPem() {
            return pem(keys.getPrivate());
        }
    }

    private TestCertificates() {}

    /** A self-signed CA. */
    public static Issued authority(String name) {
        KeyPair keys = rsa();
        X500Name subject = new X500Name("CN=" + name);
        return new Issued(sign(new JcaX509v3CertificateBuilder(subject, serial(), notBefore(), notAfter(), subject,
                keys.getPublic()), keys, true, null), keys);
    }

    /** A server certificate for the given DNS names only (no IP address), signed by {@code ca}. */
    public static Issued server(Issued ca, String... dnsNames) {
        GeneralName[] names = new GeneralName[dnsNames.length];
        for (int i = 0; i < dnsNames.length; i++) {
            names[i] = new GeneralName(GeneralName.dNSName, dnsNames[i]);
        }
        return leaf(ca, dnsNames[0], new GeneralNames(names));
    }

    /** A client certificate whose common name is {@code user} (what Postgres's {@code cert} method matches). */
    public static Issued client(Issued ca, String user) {
        return leaf(ca, user, null);
    }

    private static Issued leaf(Issued ca, String commonName, GeneralNames altNames) {
        KeyPair keys = rsa();
        X500Name issuer = new X500Name(ca.certificate().getSubjectX500Principal().getName());
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuer, serial(), notBefore(), notAfter(),
                new X500Name("CN=" + commonName), keys.getPublic());
        return new Issued(sign(builder, ca.keys(), false, altNames), keys);
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair signer, boolean ca, GeneralNames altNames) {
        try {
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(ca ? KeyUsage.keyCertSign | KeyUsage.cRLSign
                    : KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
            if (altNames != null) {
                builder.addExtension(Extension.subjectAlternativeName, false, altNames);
            }
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder("SHA256withRSA").build(signer.getPrivate())));
        } catch (Exception e) {
            throw new IllegalStateException("cannot make a test certificate: " + e, e);
        }
    }

    private static KeyPair rsa() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static BigInteger serial() {
        return BigInteger.valueOf(SERIALS.incrementAndGet());
    }

    private static Date notBefore() {
        return Date.from(Instant.now().minus(Duration.ofHours(1)));
    }

    private static Date notAfter() {
        return Date.from(Instant.now().plus(Duration.ofDays(30)));
    }

    private static String pem(Object object) {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(object);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return text.toString();
    }
}
