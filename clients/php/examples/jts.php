<?php
// Command-line use of JitsiTokenClient (also the driver the service's tests run):
//   JTS_URL=http://127.0.0.1:3000 JTS_CLIENT=openemr-main JTS_KEY_FILE=/run/secrets/k1 JTS_KID=k1 \
//     php jts.php visit request.json [actor]        # or: token request.json | inspect request.json
// Prints the service's JSON answer; on an error prints {"error":{"code","status"}} and exits 3.
declare(strict_types=1);
require_once __DIR__ . '/../JitsiTokenClient.php';

[$self, $op, $file] = array_pad($argv, 3, null);
$actor = $argv[3] ?? 'php-cli';
if (!in_array($op, ['visit', 'token', 'inspect'], true) || $file === null) {
    fwrite(STDERR, "usage: php $self visit|token|inspect request.json [actor]\n");
    exit(2);
}
$env = static fn (string $name): ?string => (getenv($name) === false || getenv($name) === '') ? null : getenv($name);
$client = new JitsiTokenClient(
    baseUrl: $env('JTS_URL') ?? 'http://127.0.0.1:3000',
    clientId: $env('JTS_CLIENT') ?? 'openemr-main',
    key: file_get_contents($env('JTS_KEY_FILE') ?? 'php://stdin'),
    alg: $env('JTS_ALG'),
    kid: $env('JTS_KID'),
    transport: $env('JTS_TRANSPORT') ?? 'auto',
);
$request = json_decode(file_get_contents($file), true, 512, JSON_THROW_ON_ERROR);
try {
    $result = match ($op) {
        'visit' => $client->createVisit($request, $actor),
        'token' => $client->createToken($request, $actor),
        'inspect' => $client->inspectToken($request, $actor),
    };
    echo json_encode($result, JitsiTokenClient::JSON_FLAGS | JSON_PRETTY_PRINT), "\n";
} catch (JitsiTokenException $e) {
    echo json_encode(['error' => ['code' => $e->getProblemCode(), 'status' => $e->getStatus(), 'message' => $e->getMessage()]], JitsiTokenClient::JSON_FLAGS), "\n";
    exit(3);
}
