<?php
// jitsi-token-service client for PHP >= 8.1 (OpenEMR and friends). No Composer packages:
// hash_hmac / openssl for the per-request EMR assertion, curl or PHP streams for HTTP.
// The Jitsi secret stays in the service; the EMR holds only its own client key.
declare(strict_types=1);

/** A non-2xx answer or a transport failure; getProblemCode() is the service's problem `code`. */
final class JitsiTokenException extends RuntimeException
{
    /** @param array<string,mixed>|null $problem */
    public function __construct(
        private readonly string $problemCode,
        private readonly int $status,
        string $message,
        private readonly ?array $problem = null,
    ) {
        parent::__construct($message, $status);
    }

    /** e.g. invalid_token, forbidden, visit_ended; network_error or http_<status> without a problem body */
    public function getProblemCode(): string { return $this->problemCode; }
    /** HTTP status, 0 when no response arrived */
    public function getStatus(): int { return $this->status; }
    /** @return array<string,mixed>|null the whole application/problem+json body */
    public function getProblem(): ?array { return $this->problem; }
}

final class JitsiTokenClient
{
    private const TYP = 'emr-request+jwt';
    /** The service refuses assertions living longer than 300 s; short also limits replay. */
    private const TTL_SECONDS = 60;
    /** Encode exactly like this and hash exactly the bytes sent (contract §2, §3). */
    public const JSON_FLAGS = JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR;

    private readonly string $alg;
    private readonly string $key;

    /**
     * @param string $key HS256: the shared secret (one trailing newline, as read from a file, is
     *                    ignored, like the service does); RS256/ES256: the PEM private key
     * @param string|null $alg HS256, RS256 or ES256; by default taken from the key
     * @param string $transport auto (curl when loaded, else streams), curl or stream
     */
    public function __construct(
        private readonly string $baseUrl,
        private readonly string $clientId,
        string $key,
        ?string $alg = null,
        private readonly ?string $kid = null,
        private readonly string $audience = 'jitsi-token-service',
        private readonly int $timeoutSeconds = 10,
        private readonly string $transport = 'auto',
    ) {
        $isPem = str_contains($key, '-----BEGIN');
        $this->key = $isPem ? $key : preg_replace('/\r?\n\z/', '', $key);
        $this->alg = $alg ?? ($isPem ? self::pemAlg($key) : 'HS256');
        if (!in_array($this->alg, ['HS256', 'RS256', 'ES256'], true)) {
            throw new InvalidArgumentException("unsupported alg {$this->alg}");
        }
        if (($this->alg === 'HS256') === $isPem) {
            throw new InvalidArgumentException("key does not fit alg {$this->alg}");
        }
        // The service refuses client secrets under 32 bytes; say so here rather than with a bare 401.
        if ($this->alg === 'HS256' && strlen($this->key) < 32) {
            throw new InvalidArgumentException('an HS256 secret must be at least 32 bytes');
        }
    }

    /**
     * One appointment → room and one join link per participant (POST /v1/visits).
     * @param array<string,mixed> $visit  appointmentId, tenant, start, end|durationMinutes, participants
     * @param string $actor the EMR user acting (assertion `sub`, for the audit log)
     * @return array<string,mixed>
     */
    public function createVisit(array $visit, string $actor): array
    {
        return $this->post('/v1/visits', $visit, $actor);
    }

    /**
     * One participant → one token and join link (POST /v1/tokens).
     * @param array<string,mixed> $request
     * @return array<string,mixed>
     */
    public function createToken(array $request, string $actor): array
    {
        return $this->post('/v1/tokens', $request, $actor);
    }

    /**
     * The token doctor (POST /v1/tokens/inspect): a checklist, never the token itself.
     * @param array<string,mixed> $request token or joinUrl, optional jitsiEnv and at
     * @return array<string,mixed>
     */
    public function inspectToken(array $request, string $actor): array
    {
        return $this->post('/v1/tokens/inspect', $request, $actor);
    }

    /** The compact JWS that authenticates one request; public for debugging and tests. */
    public function signAssertion(string $method, string $path, string $body, string $actor, ?int $now = null): string
    {
        $now ??= time();
        $header = ['alg' => $this->alg, 'typ' => self::TYP];
        if ($this->kid !== null) {
            $header['kid'] = $this->kid;
        }
        $claims = [
            'iss' => $this->clientId,
            'sub' => $actor,
            'aud' => $this->audience,
            'iat' => $now,
            'exp' => $now + self::TTL_SECONDS,
            'jti' => self::b64url(random_bytes(24)),
            'htm' => strtoupper($method),
            'htu' => $path,
            'body_sha256' => self::b64url(hash('sha256', $body, true)),
        ];
        $input = self::b64url(json_encode($header, self::JSON_FLAGS)) . '.' . self::b64url(json_encode($claims, self::JSON_FLAGS));
        return $input . '.' . self::b64url($this->sign($input));
    }

    /** @return array<string,mixed> */
    private function post(string $path, array $payload, string $actor): array
    {
        // These exact bytes are hashed into the assertion and sent; never re-encode in between.
        $body = json_encode($payload, self::JSON_FLAGS);
        $url = rtrim($this->baseUrl, '/') . $path;
        $htu = parse_url($url, PHP_URL_PATH) ?: $path;
        $headers = [
            'Content-Type: application/json',
            'Accept: application/json',
            'Authorization: Bearer ' . $this->signAssertion('POST', $htu, $body, $actor),
        ];
        $useCurl = $this->transport === 'curl' || ($this->transport === 'auto' && function_exists('curl_init'));
        [$status, $raw] = $useCurl ? $this->curlPost($url, $headers, $body) : $this->streamPost($url, $headers, $body);
        $decoded = json_decode($raw, true);
        if ($status >= 200 && $status < 300 && is_array($decoded)) {
            return $decoded;
        }
        $problem = is_array($decoded) ? $decoded : null;
        $code = is_string($problem['code'] ?? null) ? $problem['code'] : "http_$status";
        $detail = is_string($problem['detail'] ?? null) ? ": {$problem['detail']}" : '';
        throw new JitsiTokenException($code, $status, "jitsi-token-service answered $status $code$detail", $problem);
    }

    /** @return array{int,string} */
    private function curlPost(string $url, array $headers, string $body): array
    {
        $ch = curl_init($url);
        curl_setopt_array($ch, [
            CURLOPT_POST => true,
            CURLOPT_POSTFIELDS => $body,
            CURLOPT_HTTPHEADER => $headers,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_FOLLOWLOCATION => false,
            CURLOPT_TIMEOUT => $this->timeoutSeconds,
        ]);
        $raw = curl_exec($ch);
        $status = (int) curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
        $error = curl_error($ch);
        if ($raw === false || $status === 0) {
            throw new JitsiTokenException('network_error', 0, "jitsi-token-service unreachable: $error");
        }
        return [$status, (string) $raw];
    }

    /** @return array{int,string} */
    private function streamPost(string $url, array $headers, string $body): array
    {
        $context = stream_context_create(['http' => [
            'method' => 'POST',
            'header' => implode("\r\n", $headers),
            'content' => $body,
            'ignore_errors' => true, // keep the problem+json body of 4xx/5xx answers
            'follow_location' => 0,
            'timeout' => $this->timeoutSeconds,
        ]]);
        $raw = @file_get_contents($url, false, $context);
        // PHP 8.4 replaces the magic $http_response_header with a function.
        $lines = function_exists('http_get_last_response_headers') ? (http_get_last_response_headers() ?? []) : ($http_response_header ?? []);
        if ($raw === false || $lines === []) {
            $error = error_get_last()['message'] ?? 'no response';
            throw new JitsiTokenException('network_error', 0, "jitsi-token-service unreachable: $error");
        }
        preg_match('#^HTTP/\S+\s+(\d{3})#', (string) $lines[0], $m);
        return [(int) ($m[1] ?? 0), $raw];
    }

    private function sign(string $input): string
    {
        if ($this->alg === 'HS256') {
            // The secret string's UTF-8 bytes are the key, exactly what the service uses.
            return hash_hmac('sha256', $input, $this->key, true);
        }
        $pkey = openssl_pkey_get_private($this->key);
        if ($pkey === false || !openssl_sign($input, $signature, $pkey, OPENSSL_ALGO_SHA256)) {
            throw new InvalidArgumentException('cannot sign with the private key');
        }
        // openssl gives ECDSA signatures as DER; JWS ES256 wants the raw 64-byte R || S.
        return $this->alg === 'ES256' ? self::derToRaw($signature, 32) : $signature;
    }

    private static function pemAlg(string $pem): string
    {
        $pkey = openssl_pkey_get_private($pem);
        $details = $pkey === false ? false : openssl_pkey_get_details($pkey);
        if ($details === false) {
            throw new InvalidArgumentException('key is not a PEM private key');
        }
        if ($details['type'] === OPENSSL_KEYTYPE_RSA) {
            return 'RS256';
        }
        if ($details['type'] === OPENSSL_KEYTYPE_EC && ($details['ec']['curve_name'] ?? '') === 'prime256v1') {
            return 'ES256';
        }
        throw new InvalidArgumentException('use an RSA or P-256 EC private key');
    }

    /** DER SEQUENCE { INTEGER r, INTEGER s } → fixed-width r || s. */
    private static function derToRaw(string $der, int $size): string
    {
        $offset = 2 + (ord($der[1]) & 0x80 ? ord($der[1]) & 0x7f : 0);
        $out = '';
        for ($i = 0; $i < 2; $i++) {
            $len = ord($der[$offset + 1]);
            $int = ltrim(substr($der, $offset + 2, $len), "\0");
            $out .= str_pad($int, $size, "\0", STR_PAD_LEFT);
            $offset += 2 + $len;
        }
        return $out;
    }

    private static function b64url(string $bytes): string
    {
        return rtrim(strtr(base64_encode($bytes), '+/', '-_'), '=');
    }
}
