// Integration: the CLI on real Fashion-MNIST and on a model exported by Debian's PyTorch.
#include "clirunner.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QThread>
#include <QJsonArray>
#include <QDir>
#include <QImage>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

class TestCli : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        const QString problem = cliEnvironmentProblem();
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
    }

    void demoOnRealFashionMnist()
    {
        QTemporaryDir dir;
        const Run r = cli({QStringLiteral("demo"), QStringLiteral("--mode"), QStringLiteral("paper"),
            QStringLiteral("--eval-samples"), QStringLiteral("2000"), QStringLiteral("--json"),
            QStringLiteral("--quiet"), QStringLiteral("--out-dir"), dir.path()});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonObject j = r.json();
        QVERIFY2(j.value(QLatin1String("accuracy_before")).toDouble() > 0.85, r.out.constData());
        QCOMPARE(j.value(QLatin1String("accuracy_unlocked")).toDouble(),
            j.value(QLatin1String("accuracy_before")).toDouble());
        QVERIFY(
            j.value(QLatin1String("accuracy_after")).toDouble() < j.value(QLatin1String("accuracy_before")).toDouble());
        QVERIFY(j.value(QLatin1String("fingerprint_match")).toBool());
        QVERIFY(j.value(QLatin1String("n_encrypted")).toInt() > 0);
        QVERIFY(j.value(QLatin1String("n_encrypted")).toInt() <= 5 * 18);
        QCOMPARE(j.value(QLatin1String("n_params")).toInt(), 61706);
        QCOMPARE(j.value(QLatin1String("layers")).toArray().size(), 5); // 6 asked, LeNet-5 has 5
        QVERIFY(QFileInfo::exists(dir.filePath(QStringLiteral("locked-model.pt"))));
        QVERIFY(QFileInfo::exists(dir.filePath(QStringLiteral("secret-key.json"))));
    }

    void strongDemoMakesTheModelUseless()
    {
        QTemporaryDir dir;
        const Run r = cli({QStringLiteral("demo"), QStringLiteral("--eval-samples"), QStringLiteral("2000"),
            QStringLiteral("--seed"), QStringLiteral("1"), QStringLiteral("--json"), QStringLiteral("--quiet"),
            QStringLiteral("--out-dir"), dir.path()});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY2(!r.err.contains("QCommandLineParser"), r.err.constData()); // every flag it reads is declared
        const QJsonObject j = r.json();
        QCOMPARE(j.value(QLatin1String("mode")).toString(), QStringLiteral("strong"));
        // At most 1.2 x random guess, with at most the demo's 32 weights, and a bit-exact unlock.
        QVERIFY2(j.value(QLatin1String("accuracy_after")).toDouble() <= 0.12, r.out.constData());
        QVERIFY(j.value(QLatin1String("n_encrypted")).toInt() <= 32);
        QCOMPARE(j.value(QLatin1String("accuracy_unlocked")).toDouble(),
            j.value(QLatin1String("accuracy_before")).toDouble());
        QVERIFY(j.value(QLatin1String("fingerprint_match")).toBool());
    }

    void pytorchModelRoundTrip()
    {
        QTemporaryDir dir;
        const QString user = dir.filePath(QStringLiteral("user.pt"));
        const QString locked = dir.filePath(QStringLiteral("locked.pt"));
        const QString key = dir.filePath(QStringLiteral("key.json"));
        const QString unlocked = dir.filePath(QStringLiteral("unlocked.pt"));
        Run r = pythonUser({QStringLiteral("export"), user});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QByteArray userDigest = digest(user);

        r = cli({QStringLiteral("info"), QStringLiteral("--model"), user, QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QStringList names;
        for (const auto &l : r.json().value(QLatin1String("layers")).toArray())
            names << l.toObject().value(QLatin1String("name")).toString();
        QCOMPARE(names,
            (QStringList{QStringLiteral("conv1.weight"), QStringLiteral("conv2.weight"),
                QStringLiteral("classifier.0.weight"), QStringLiteral("classifier.3.weight")}));

        r = cli({QStringLiteral("lock"), QStringLiteral("--model"), user, QStringLiteral("--data"),
            QStringLiteral("fashion-mnist"), QStringLiteral("--input-mean"), QStringLiteral("0.2860"),
            QStringLiteral("--input-std"), QStringLiteral("0.3530"), QStringLiteral("--mode"), QStringLiteral("paper"),
            // An untrained export, locked weakly on purpose: this is about the round trip, not the lock's strength.
            QStringLiteral("--allow-untrained"), QStringLiteral("--allow-weak"), QStringLiteral("--layers"),
            QStringLiteral("conv1.weight,classifier.3.weight"), QStringLiteral("--samples"), QStringLiteral("100"),
            QStringLiteral("--max-iter"), QStringLiteral("8"), QStringLiteral("--eval-samples"), QStringLiteral("500"),
            QStringLiteral("--out-model"), locked, QStringLiteral("--out-key"), key, QStringLiteral("--json"),
            QStringLiteral("--quiet")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonObject lock = r.json();
        for (const char *field : {"accuracy_before", "accuracy_after", "n_encrypted", "n_params", "iterations",
                 "final_loss", "seconds", "layers"})
            QVERIFY2(lock.contains(QLatin1String(field)), field);
        QCOMPARE(lock.value(QLatin1String("iterations")).toInt(), 16);
        const int encrypted = lock.value(QLatin1String("n_encrypted")).toInt();
        QVERIFY(encrypted > 0 && encrypted <= 16);

        // PyTorch loads the locked file; its weights differ in exactly the encrypted positions.
        r = pythonUser({QStringLiteral("compare"), user, locked});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY2(r.out.contains("weights_equal=False"), r.out.constData());
        QVERIFY2(r.out.contains("changed_weights=" + QByteArray::number(encrypted)), r.out.constData());
        QVERIFY2(r.out.contains("owner=ACME Corp"), r.out.constData());

        QCOMPARE(
            cli({QStringLiteral("verify"), QStringLiteral("--model"), locked, QStringLiteral("--key"), key}).exitCode,
            0);
        const Run notLocked =
            cli({QStringLiteral("verify"), QStringLiteral("--model"), user, QStringLiteral("--key"), key});
        QCOMPARE(notLocked.exitCode, 1);
        QVERIFY(notLocked.out.contains("not locked"));

        r = cli({QStringLiteral("unlock"), QStringLiteral("--model"), locked, QStringLiteral("--key"), key,
            QStringLiteral("--out"), unlocked, QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY(r.json().value(QLatin1String("fingerprint_match")).toBool());

        // The unlocked model is the original, bit for bit, as PyTorch sees it.
        r = pythonUser({QStringLiteral("compare"), user, unlocked});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY2(r.out.contains("outputs_equal=True weights_equal=True changed_weights=0 owner=ACME Corp"),
            r.out.constData());
        QCOMPARE(digest(user), userDigest);
    }

    void attacksAndExperimentsSpeakCsvAndJson()
    {
        QTemporaryDir dir;
        const QString model = qEnvironmentVariable("PARAMLOCK_RESOURCES") + QStringLiteral("/models/lenet5-fmnist.pt");
        const QString locked = dir.filePath(QStringLiteral("l.pt"));
        const QString key = dir.filePath(QStringLiteral("k.json"));
        Run r = cli({QStringLiteral("lock"), QStringLiteral("--model"), model, QStringLiteral("--data"),
            QStringLiteral("fashion-mnist"), QStringLiteral("--max-weights"), QStringLiteral("8"),
            QStringLiteral("--allow-weak"), QStringLiteral("--eval-samples"), QStringLiteral("200"),
            QStringLiteral("--out-model"), locked, QStringLiteral("--out-key"), key, QStringLiteral("-q")});
        QVERIFY2(r.exitCode == 0, r.err.constData());

        // Each class's accuracy, on the first 500 test images, whose classes number 55, 52, 65, 46, 57, 39, 47, 47,
        // 44, 48 (counted from the IDX file).
        r = cli({QStringLiteral("evaluate"), QStringLiteral("--model"), model, QStringLiteral("--data"),
            QStringLiteral("fashion-mnist"), QStringLiteral("--eval-samples"), QStringLiteral("500"),
            QStringLiteral("--json"), QStringLiteral("-q")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonArray perClass = r.json().value(QLatin1String("per_class")).toArray();
        QCOMPARE(perClass.size(), 10);
        const int counts[10] = {55, 52, 65, 46, 57, 39, 47, 47, 44, 48};
        int correct = 0;
        for (int c = 0; c < 10; ++c) {
            const QJsonObject k = perClass[c].toObject();
            QCOMPARE(k.value(QLatin1String("class")).toInt(), c);
            QCOMPARE(k.value(QLatin1String("total")).toInt(), counts[c]);
            QVERIFY(k.value(QLatin1String("correct")).toInt() <= counts[c]);
            correct += k.value(QLatin1String("correct")).toInt();
        }
        QCOMPARE(correct, r.json().value(QLatin1String("correct")).toInt());
        QVERIFY(correct > 400); // LeNet-5 at about 91%

        r = cli({QStringLiteral("attack"), QStringLiteral("--kind"), QStringLiteral("prune"), QStringLiteral("--model"),
            locked, QStringLiteral("--data"), QStringLiteral("fashion-mnist"), QStringLiteral("--rates"),
            QStringLiteral("0,0.5"), QStringLiteral("--eval-samples"), QStringLiteral("200"), QStringLiteral("--csv"),
            QStringLiteral("-q")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QList<QByteArray> lines = r.out.trimmed().split('\n');
        QCOMPARE(lines.size(), 3);
        QCOMPARE(lines[0], QByteArray("attack,x,accuracy"));
        QVERIFY(lines[2].startsWith("prune-global,0.5,"));

        r = cli({QStringLiteral("attack"), QStringLiteral("--kind"), QStringLiteral("adaptive"),
            QStringLiteral("--model"), locked, QStringLiteral("--key"), key, QStringLiteral("--data"),
            QStringLiteral("fashion-mnist"), QStringLiteral("--iterations"), QStringLiteral("2"),
            QStringLiteral("--eval-samples"), QStringLiteral("200"), QStringLiteral("--json"), QStringLiteral("-q")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        for (const char *field : {"variant", "accuracy_before", "accuracy_after", "weights_changed", "secret_hits",
                 "secret_positions", "seconds"})
            QVERIFY2(r.json().contains(QLatin1String(field)), field);
        QCOMPARE(r.json().value(QLatin1String("secret_positions")).toInt(), 8);

        r = cli({QStringLiteral("experiment"), QStringLiteral("--kind"), QStringLiteral("n-e"),
            QStringLiteral("--model"), model, QStringLiteral("--data"), QStringLiteral("fashion-mnist"),
            QStringLiteral("--counts"), QStringLiteral("0,4"), QStringLiteral("--eval-samples"), QStringLiteral("200"),
            QStringLiteral("--json"), QStringLiteral("-q")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonArray points = r.json().value(QLatin1String("points")).toArray();
        QCOMPARE(points.size(), 2);
        QCOMPARE(points[0].toObject().value(QLatin1String("n_encrypted")).toInt(), 0);
        QCOMPARE(points[1].toObject().value(QLatin1String("n_encrypted")).toInt(), 4);
        QVERIFY(points[1].toObject().value(QLatin1String("accuracy")).toDouble()
            < points[0].toObject().value(QLatin1String("accuracy")).toDouble());
    }

    void benchAgreesWithThePythonPeer()
    {
        // The bench's own checks: the plain PyTorch loop and ParamLock pick the same weights in the same order,
        // and reusing activations changes no pick. The timings are printed, never asserted (noisy machines).
        const Run r = run(qEnvironmentVariable("PARAMLOCK_BENCH"),
            {QStringLiteral("--peer"), QStringLiteral("--end-to-end"), QStringLiteral("--repeats"), QStringLiteral("2"),
                QStringLiteral("--eval-samples"), QStringLiteral("500"), QStringLiteral("--max-iter"),
                QStringLiteral("6"), QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonObject j = r.json();
        const QJsonObject peer = j.value(QLatin1String("peer")).toObject();
        QVERIFY(peer.value(QLatin1String("identical_positions")).toBool());
        QCOMPARE(peer.value(QLatin1String("iterations")).toInt(), 30);
        QVERIFY(j.value(QLatin1String("paper")).toObject().value(QLatin1String("reuse_same_positions")).toBool());
        QVERIFY(j.value(QLatin1String("evaluation")).toObject().value(QLatin1String("ratio")).toDouble() > 0.0);
        // End to end: the programs ran in their own processes, and the peer read the same 500 test images with
        // their labels (the same model scores the same on them, give or take an image whose two best classes are
        // nearly tied: the two programs normalise in different float operations).
        const QJsonObject endToEnd = j.value(QLatin1String("end_to_end")).toObject();
        QVERIFY(endToEnd.value(QLatin1String("lock_seconds")).toDouble() > 0.0);
        QVERIFY(endToEnd.value(QLatin1String("evaluate_seconds")).toDouble() > 0.0);
        const double peerAccuracy =
            endToEnd.value(QLatin1String("peer")).toObject().value(QLatin1String("accuracy_before")).toDouble();
        const double ownAccuracy =
            j.value(QLatin1String("evaluation")).toObject().value(QLatin1String("accuracy")).toDouble();
        QVERIFY2(ownAccuracy > 0.8 && qAbs(peerAccuracy - ownAccuracy) <= 2.0 / 500.0,
            qPrintable(QStringLiteral("peer %1, ParamLock %2").arg(peerAccuracy).arg(ownAccuracy)));
        QVERIFY(j.value(QLatin1String("unlock")).toObject().value(QLatin1String("entries")).toInt() > 0);
        QVERIFY(j.value(QLatin1String("threads")).toInt() >= 1);
        // Two rounds, each with its own ratio; the reported ratio is their median (of two: the mean).
        QCOMPARE(j.value(QLatin1String("rounds")).toInt(), 2);
        const QJsonObject paper = j.value(QLatin1String("paper")).toObject();
        const QJsonArray perRound = paper.value(QLatin1String("ratio_per_round")).toArray();
        QCOMPARE(perRound.size(), 2);
        QCOMPARE(paper.value(QLatin1String("ratio")).toDouble(),
            0.5 * (perRound.at(0).toDouble() + perRound.at(1).toDouble()));
        const QJsonObject strong = j.value(QLatin1String("strong")).toObject();
        QCOMPARE(strong.value(QLatin1String("ratio_per_round")).toArray().size(), 2);
        // Every step of the strong lock measured at least one candidate with a forward pass, priced at the
        // forward-only floor; the same lock without the lookahead is timed beside it.
        QVERIFY(strong.value(QLatin1String("lookahead_passes")).toInt()
            >= strong.value(QLatin1String("iterations")).toInt());
        QVERIFY(
            j.value(QLatin1String("floor_seconds")).toObject().value(QLatin1String("forward_only")).toDouble() > 0.0);
        QCOMPARE(strong.value(QLatin1String("first_order"))
                     .toObject()
                     .value(QLatin1String("ratio_per_round"))
                     .toArray()
                     .size(),
            2);
        // Debian's LibTorch multiplies matrices with OpenBLAS: ParamLock keeps it off a second thread pool.
        const QJsonObject blas = j.value(QLatin1String("blas")).toObject();
        QCOMPARE(blas.value(QLatin1String("threads")).toInt(), 1);
        if (QThread::idealThreadCount() > 1)
            QVERIFY(blas.value(QLatin1String("floor_all_layers_with_pool")).toDouble() > 0.0);
        // The memory probe ran in its own process and knows the model's size: 61,706 parameters, of which
        // 61,470 are conv/FC weights (the rest are biases) that get a gradient.
        const QJsonObject memory = j.value(QLatin1String("strong_lock_memory")).toObject();
        QCOMPARE(qRound64(memory.value(QLatin1String("model_mib")).toDouble() * 1048576.0 / 4.0), 61706);
        QCOMPARE(qRound64(memory.value(QLatin1String("gradient_mib")).toDouble() * 1048576.0 / 4.0), 61470);
        QVERIFY(memory.value(QLatin1String("lock_peak_above_base_mib")).toDouble() > 0.0);
        qInfo("bench: %s", r.out.constData());
    }

    void reportOnRealData()
    {
        QTemporaryDir dir;
        const QString html = dir.filePath(QStringLiteral("lenet-report.html"));
        const Run r = cli({QStringLiteral("report"), QStringLiteral("--analyses"), QStringLiteral("prune,clip,detect"),
            QStringLiteral("--eval-samples"), QStringLiteral("1000"), QStringLiteral("-q"), QStringLiteral("-o"),
            html});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QFile h(html), pdf(dir.filePath(QStringLiteral("lenet-report.pdf")));
        QVERIFY(h.open(QIODevice::ReadOnly) && pdf.open(QIODevice::ReadOnly));
        const QByteArray text = h.readAll();
        QVERIFY(text.contains("Pruning attack") && text.contains("Norm-clipping attack"));
        QCOMPARE(text.count("data:image/png;base64,"), 5);
        QVERIFY(pdf.read(5) == "%PDF-");
        QVERIFY(pdf.size() > 50000); // the charts are in it
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files).size(), 2); // no model, no key
    }

    void errorsAreClearAndWriteNothing()
    {
        QTemporaryDir dir;
        const QString user = dir.filePath(QStringLiteral("user.pt"));
        QVERIFY(pythonUser({QStringLiteral("export"), user}).exitCode == 0);
        const QByteArray before = digest(user);
        const QString model = qEnvironmentVariable("PARAMLOCK_RESOURCES") + QStringLiteral("/models/lenet5-fmnist.pt");

        Run r = cli({QStringLiteral("lock"), QStringLiteral("--model"), user, QStringLiteral("--data"),
            QStringLiteral("fashion-mnist"), QStringLiteral("--out-model"), user, QStringLiteral("--out-key"),
            dir.filePath(QStringLiteral("k.json"))});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("refusing to overwrite the input model"), r.err.constData());
        QCOMPARE(digest(user), before);

        QFile junk(dir.filePath(QStringLiteral("junk.pt")));
        QVERIFY(junk.open(QIODevice::WriteOnly));
        junk.write("not a model");
        junk.close();
        r = cli({QStringLiteral("info"), QStringLiteral("--model"), junk.fileName()});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("is not a TorchScript model"), r.err.constData());

        // A key made for the demo model does not open the user's model.
        const QString key = dir.filePath(QStringLiteral("demo-key.json"));
        r = cli({QStringLiteral("lock"), QStringLiteral("--model"), model, QStringLiteral("--data"),
            QStringLiteral("fashion-mnist"), QStringLiteral("--layers"), QStringLiteral("fc3"),
            QStringLiteral("--max-iter"), QStringLiteral("2"), QStringLiteral("--samples"), QStringLiteral("50"),
            QStringLiteral("--allow-weak"), QStringLiteral("--eval-samples"), QStringLiteral("100"),
            QStringLiteral("--out-model"), dir.filePath(QStringLiteral("l.pt")), QStringLiteral("--out-key"), key,
            QStringLiteral("-q")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QString out = dir.filePath(QStringLiteral("never.pt"));
        r = cli({QStringLiteral("unlock"), QStringLiteral("--model"), user, QStringLiteral("--key"), key,
            QStringLiteral("--out"), out});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("different model"), r.err.constData());
        QVERIFY(!QFileInfo::exists(out));

        r = cli({QStringLiteral("lock"), QStringLiteral("--model"), model, QStringLiteral("--data"),
            QStringLiteral("fashion-mnist"), QStringLiteral("--layers"), QStringLiteral(","),
            QStringLiteral("--out-model"), out, QStringLiteral("--out-key"), key});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("--layers is empty"), r.err.constData());

        r = cli({QStringLiteral("frobnicate")});
        QCOMPARE(r.exitCode, 2);
        r = cli({QStringLiteral("lock"), QStringLiteral("--help")});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.contains("--t-loss"));
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
