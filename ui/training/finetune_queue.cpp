#include "ui/training/finetune_queue.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QTimer>

#include "ui/json_file.h"

namespace vitscope::ui {

namespace {

constexpr const char* kStateNames[] = {"queued", "running", "paused", "finished", "failed", "cancelled"};

QString display_name(const runtime::FineTuneSpec& spec) { return QString::fromStdString(spec.name); }

}  // namespace

QJsonObject curves_to_json(const QString& jobName, const FineTuneCurves& c) {
  auto numbers = [](const auto& values) {
    QJsonArray a;
    for (double v : values) a.append(v);
    return a;
  };
  QJsonArray steps, distance, nmi, spectrum;
  for (const auto& d : c.diagnostics) {
    steps.append(static_cast<double>(d.step));
    distance.append(numbers(d.attention_distance));
    nmi.append(numbers(d.nmi));
    spectrum.append(numbers(d.delta_log_amplitude));
  }
  const QJsonObject job{{"name", jobName},
                        {"step", numbers(c.step)},
                        {"loss", numbers(c.loss)},
                        {"lr", numbers(c.lr)},
                        {"images_per_second", numbers(c.images_per_second)},
                        {"epoch", numbers(c.epoch)},
                        {"val_top1", numbers(c.val_top1)},
                        {"diagnostics", QJsonObject{{"step", steps},
                                                    {"attention_distance", distance},
                                                    {"nmi", nmi},
                                                    {"delta_log_amplitude", spectrum}}}};
  return QJsonObject{{"panel", QStringLiteral("fine-tuning")}, {"models", QJsonArray{job}}};
}

QString FineTuneQueue::stateName(State state) { return kStateNames[static_cast<int>(state)]; }

FineTuneQueue::FineTuneQueue(const QString& dataDir, QObject* parent) : QAbstractListModel(parent), dir_(dataDir) {
  QDir().mkpath(dir_);
  load();
  // Jobs the last session left running, paused or waiting continue from their checkpoints.
  for (auto& job : jobs_)
    if (job.state == State::Running || job.state == State::Paused || job.state == State::Queued) {
      job.state = State::Queued;
      ++resumed_at_startup_;
    }
  if (resumed_at_startup_ > 0) QTimer::singleShot(0, this, &FineTuneQueue::startNext);
}

FineTuneQueue::~FineTuneQueue() { interrupt(); }

int FineTuneQueue::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : jobs_.size(); }

QVariant FineTuneQueue::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= jobs_.size()) return {};
  const auto& j = jobs_[index.row()];
  if (role == Qt::DisplayRole) {
    QString progress = j.total_steps > 0 ? QStringLiteral(" %1%").arg(100 * j.step / j.total_steps) : QString();
    return QStringLiteral("%1 — %2 — %3%4")
        .arg(display_name(j.spec), QString::fromStdString(j.spec.mode), stateName(j.state), progress);
  }
  if (role == Qt::ToolTipRole) return j.message;
  return {};
}

int FineTuneQueue::enqueue(runtime::FineTuneSpec spec) {
  Job job;
  job.id = QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMdd-hhmmss-zzz")) + "-" + QString::number(jobs_.size());
  const QString base_name = QFileInfo(QString::fromStdString(spec.base_model)).completeBaseName();
  if (spec.name.empty()) spec.name = QStringLiteral("%1 · %2").arg(base_name, QString::fromStdString(spec.mode)).toStdString();
  spec.checkpoint_dir = QDir(dir_).filePath("jobs/" + job.id).toStdString();
  if (spec.out.empty())
    spec.out = QDir(dir_).filePath(QStringLiteral("models/%1-%2-%3.safetensors").arg(base_name, QString::fromStdString(spec.mode), job.id)).toStdString();
  job.spec = std::move(spec);
  beginInsertRows({}, jobs_.size(), jobs_.size());
  jobs_.push_back(std::move(job));
  endInsertRows();
  save();
  startNext();
  return jobs_.size() - 1;
}

int FineTuneQueue::runningRow() const { return running_id_.isEmpty() ? -1 : rowOf(running_id_); }

void FineTuneQueue::pause(int row) {
  if (row < 0 || row >= jobs_.size() || jobs_[row].id != running_id_ || jobs_[row].state != State::Running) return;
  running_->pause();
  setState(row, State::Paused);
}

void FineTuneQueue::resume(int row) {
  if (row < 0 || row >= jobs_.size() || jobs_[row].id != running_id_ || jobs_[row].state != State::Paused) return;
  running_->resume();
  setState(row, State::Running);
}

void FineTuneQueue::cancel(int row) {
  if (row < 0 || row >= jobs_.size()) return;
  auto& j = jobs_[row];
  if (j.id == running_id_) {
    running_->cancel();  // onFinished marks it cancelled
  } else if (j.state == State::Queued) {
    setState(row, State::Cancelled);
  }
}

void FineTuneQueue::retry(int row) {
  if (row < 0 || row >= jobs_.size() || jobs_[row].state != State::Failed) return;
  setState(row, State::Queued);
  startNext();
}

void FineTuneQueue::remove(int row) {
  if (row < 0 || row >= jobs_.size() || !hasEnded(jobs_[row].state)) return;
  QDir(QString::fromStdString(jobs_[row].spec.checkpoint_dir)).removeRecursively();
  beginRemoveRows({}, row, row);
  jobs_.removeAt(row);
  endRemoveRows();
  save();
}

void FineTuneQueue::removeEnded() {
  for (int row = jobs_.size() - 1; row >= 0; --row)
    if (hasEnded(jobs_[row].state)) remove(row);
}

void FineTuneQueue::interrupt() {
  if (!thread_) return;
  interrupting_ = true;  // the job stays "running" in jobs.json: the next launch resumes it
  running_->cancel();
  thread_->wait();
  delete thread_;
  thread_ = nullptr;
  running_.reset();
  running_id_.clear();
}

void FineTuneQueue::startNext() {
  if (thread_ || interrupting_) return;
  const auto next = std::find_if(jobs_.begin(), jobs_.end(), [](const Job& j) { return j.state == State::Queued; });
  if (next == jobs_.end()) return;
  running_id_ = next->id;
  running_ = std::make_shared<runtime::FineTuneJob>(next->spec);
  next->curves = {};  // a resumed job reports again from its checkpoint on
  next->message.clear();
  setState(static_cast<int>(next - jobs_.begin()), State::Running);
  const QString id = running_id_;
  auto job = running_;
  thread_ = QThread::create([this, id, job] {
    auto post = [this](auto fn) { QMetaObject::invokeMethod(this, std::move(fn), Qt::QueuedConnection); };
    runtime::FineTuneOutcome outcome;
    QString error;
    try {
      outcome = job->run([&](const runtime::FineTuneUpdate& u) { post([this, id, u] { onUpdate(id, u); }); });
    } catch (const std::exception& e) {
      error = QString::fromStdString(e.what());
    }
    post([this, id, outcome, error] { onFinished(id, outcome, error); });
  });
  thread_->setObjectName(QStringLiteral("fine-tune"));
  thread_->start(QThread::LowPriority);
}

void FineTuneQueue::onUpdate(const QString& id, const runtime::FineTuneUpdate& u) {
  const int row = rowOf(id);
  if (row < 0 || interrupting_) return;
  auto& j = jobs_[row];
  auto& c = j.curves;
  using K = runtime::FineTuneUpdate::Kind;
  switch (u.kind) {
    case K::Started: j.message = QString::fromStdString(u.message); [[fallthrough]];
    case K::Checkpoint:
      j.step = u.step;
      if (u.total_steps > 0) j.total_steps = u.total_steps;
      break;
    case K::Step:
      j.step = u.step;
      j.total_steps = u.total_steps;
      c.step << static_cast<double>(u.step);
      c.loss << u.loss;
      c.lr << u.lr;
      c.images_per_second << u.images_per_second;
      break;
    case K::Epoch:
      for (const auto& [name, value] : u.metrics)
        if (name == "val_top1") {
          c.epoch << u.epoch;
          c.val_top1 << value;
        }
      break;
    case K::Diagnostics: c.diagnostics << u.diagnostics; break;
    case K::Warning:
      j.message = QString::fromStdString(u.message);
      emit jobWarning(display_name(j.spec), j.message);
      break;
    case K::Paused: j.paused_at = u.step; break;
    case K::Resumed: j.paused_at = -1; break;
  }
  emit dataChanged(index(row), index(row));
  emit curvesChanged(row);
}

void FineTuneQueue::onFinished(const QString& id, const runtime::FineTuneOutcome& outcome, const QString& error) {
  if (interrupting_) return;
  if (thread_) {
    thread_->wait();
    delete thread_;
    thread_ = nullptr;
  }
  running_.reset();
  running_id_.clear();
  const int row = rowOf(id);
  if (row >= 0) {
    auto& j = jobs_[row];
    if (!error.isEmpty()) {
      j.message = error;
      setState(row, State::Failed);
      emit jobFailed(display_name(j.spec), error);
    } else if (outcome.model_path.empty()) {
      QDir(QString::fromStdString(j.spec.checkpoint_dir)).removeRecursively();
      setState(row, State::Cancelled);
    } else {
      QDir(QString::fromStdString(j.spec.checkpoint_dir)).removeRecursively();  // the model is saved
      j.model_path = QString::fromStdString(outcome.model_path);
      j.step = j.total_steps;
      setState(row, State::Finished);
      emit modelReady(j.model_path, QString::fromStdString(j.spec.base_model), display_name(j.spec));
    }
  }
  startNext();
}

int FineTuneQueue::rowOf(const QString& id) const {
  for (int i = 0; i < jobs_.size(); ++i)
    if (jobs_[i].id == id) return i;
  return -1;
}

void FineTuneQueue::setState(int row, State state) {
  jobs_[row].state = state;
  emit dataChanged(index(row), index(row));
  save();
}

void FineTuneQueue::save() const {
  QJsonArray list;
  for (const auto& j : jobs_) {
    list.append(QJsonObject{{"id", j.id},
                            {"state", stateName(j.state)},
                            {"message", j.message},
                            {"model_path", j.model_path},
                            {"spec", QJsonDocument::fromJson(QByteArray::fromStdString(j.spec.to_json())).object()}});
  }
  QSaveFile file(QDir(dir_).filePath("jobs.json"));  // written whole or not at all
  if (!file.open(QIODevice::WriteOnly)) return;
  file.write(QJsonDocument(QJsonObject{{"jobs", list}}).toJson());
  file.commit();
}

void FineTuneQueue::load() {
  const QString path = QDir(dir_).filePath("jobs.json");
  if (!QFileInfo::exists(path)) return;
  QString error;
  const auto document = read_json_object(path, &error);
  if (!document) {
    QFile::remove(path + ".broken");
    QFile::rename(path, path + ".broken");
    load_problem_ = tr("%1 (kept as jobs.json.broken; the queue starts empty)").arg(error);
    return;
  }
  QStringList skipped;
  for (const auto& value : document->value("jobs").toArray()) {
    const auto o = value.toObject();
    Job j;
    j.id = o.value("id").toString();
    const auto state = o.value("state").toString();
    for (int s = 0; s < 6; ++s)
      if (state == kStateNames[s]) j.state = static_cast<State>(s);
    j.message = o.value("message").toString();
    j.model_path = o.value("model_path").toString();
    try {
      j.spec = runtime::FineTuneSpec::from_json(QJsonDocument(o.value("spec").toObject()).toJson().toStdString());
    } catch (const std::exception& e) {
      skipped << tr("job %1: %2").arg(j.id, QString::fromUtf8(e.what()));
      continue;
    }
    jobs_.push_back(std::move(j));
  }
  if (!skipped.isEmpty()) load_problem_ = file_problem(path, tr("left out %1").arg(skipped.join("; ")));
}

}  // namespace vitscope::ui
